import type { AiTaskType } from '../decision/types.js';

export type { AiTaskType };

export const AI_TASK_TYPES = [
  'dispute_summary',
  'fraud_risk_assessment',
  'manual_review_triage',
  'failed_payment_outreach_draft',
] as const satisfies readonly AiTaskType[];

/** Providers that can run an enrichment; `none` in the configuration turns enrichment off. */
export type AiProviderName = 'gemini' | 'manus' | 'openai';

/** A JSON Schema object, limited to the keywords every provider accepts (see `toProviderSchema`). */
export type JsonSchema = { readonly [key: string]: unknown };

/** One request to a provider: instructions, the event data and the expected output shape. */
export interface ProviderRequest {
  readonly task: AiTaskType;
  /** Instructions; never contains customer-controlled text. */
  readonly system: string;
  /** Event facts and the fenced untrusted-data block. */
  readonly user: string;
  readonly schema: JsonSchema;
  /** Aborted by the timeout policy; providers pass it to their HTTP client. */
  readonly signal: AbortSignal;
}

/**
 * Result of a provider call whose HTTP exchange itself succeeded. Transport failures
 * (timeouts, 429, 5xx, refused connections) are thrown as AiProviderError instead, so the
 * circuit breaker counts them.
 */
export type ProviderReply =
  /** The model replied; `text` is its raw output, expected to be one JSON object. */
  | { readonly status: 'completed'; readonly model: string; readonly text: string }
  /** The provider replied without usable output (refusal, safety block, truncation, failed task). */
  | { readonly status: 'no_output'; readonly model: string; readonly reason: string }
  /** An asynchronous task was accepted or is still running; poll it again later. */
  | { readonly status: 'pending'; readonly model: string; readonly taskId: string };

export interface AiProvider {
  readonly name: AiProviderName;
  /** Model or agent profile the provider requests; the ledger records it with each result. */
  readonly model: string;
  generate(request: ProviderRequest): Promise<ProviderReply>;
  /** Present only for asynchronous providers: reads the state of a task that `generate` started. */
  poll?(request: { readonly taskId: string; readonly signal: AbortSignal }): Promise<ProviderReply>;
  /** Present only for asynchronous providers: requests that the provider stop a task that took too long. */
  cancel?(request: { readonly taskId: string; readonly signal: AbortSignal }): Promise<void>;
}

export type EnrichmentOutcome = 'ok' | 'unavailable' | 'failed' | 'skipped_breaker_open';

export type BreakerStateName = 'closed' | 'open' | 'half_open';

/** State of an asynchronous provider task that the enrichment job carries between polls. */
export interface PendingProviderTask {
  readonly taskId: string;
  /** Clock time (ms) when the task was created; the task timeout counts from here. */
  readonly startedAtMs: number;
}
