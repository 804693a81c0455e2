import { describeError } from '../errors.js';
import { systemClock, type Clock } from '../store/ports.js';
import { CircuitOpenError, type ProviderBreakers } from './breaker.js';
import { AiProviderError } from './errors.js';
import { buildPrompt, type EnrichmentSubject } from './prompt/build.js';
import { parseAdvice, providerSchemaFor, type Advice } from './schemas.js';
import type { AiProvider, AiTaskType, PendingProviderTask, ProviderReply } from './types.js';

export interface AiTaskDeps {
  readonly provider: AiProvider;
  /** Shared breakers; every provider call goes through the provider's breaker and timeout. */
  readonly breakers: ProviderBreakers;
  readonly clock?: Clock;
}

/**
 * Result of one step of an AI task. `pending` is the only non-final result: an asynchronous
 * provider accepted the task and must be polled with `pollAiTask`.
 */
export type AiTaskResult =
  | { readonly outcome: 'ok'; readonly advice: Advice; readonly model: string; readonly latencyMs: number }
  /** The provider replied, but without usable advice (invalid JSON, schema violation, refusal, …). */
  | { readonly outcome: 'unavailable'; readonly reason: string; readonly model: string; readonly latencyMs: number }
  /** The call failed; `retryable` tells whether a later attempt could succeed. */
  | {
      readonly outcome: 'failed';
      readonly error: string;
      readonly retryable: boolean;
      readonly retryAfterMs: number | null;
      readonly model: string;
      readonly latencyMs: number;
    }
  /** The provider's circuit breaker is open; the provider was not called. */
  | { readonly outcome: 'skipped_breaker_open'; readonly model: string; readonly latencyMs: number }
  | { readonly outcome: 'pending'; readonly model: string; readonly pending: PendingProviderTask };

/**
 * Runs one AI task on one event: builds the prompt from allow-listed fields, calls the provider
 * through its circuit breaker and timeout, and validates the reply against the task's schema.
 * Never throws for provider problems: every failure becomes a result, so enrichment cannot fail
 * the caller. The output is advice only; nothing here acts on it.
 */
export async function runAiTask(task: AiTaskType, subject: EnrichmentSubject, deps: AiTaskDeps): Promise<AiTaskResult> {
  const clock = deps.clock ?? systemClock;
  const { provider } = deps;
  const startedAtMs = clock();

  const prompt = buildPrompt(task, subject, new Date(startedAtMs));
  if (prompt === null) {
    return { outcome: 'unavailable', reason: 'the event has no data.object to describe', model: provider.model, latencyMs: 0 };
  }

  const schema = providerSchemaFor(task);
  const step = await callProvider(deps, (signal) => provider.generate({ task, system: prompt.system, user: prompt.user, schema, signal }));
  return settle(task, step, provider, startedAtMs, clock);
}

/** Polls an asynchronous provider task that `runAiTask` started; same results and guarantees. */
export async function pollAiTask(task: AiTaskType, pending: PendingProviderTask, deps: AiTaskDeps): Promise<AiTaskResult> {
  const clock = deps.clock ?? systemClock;
  const { provider } = deps;
  const poll = provider.poll?.bind(provider);
  if (poll === undefined) {
    return {
      outcome: 'failed',
      error: `Provider ${provider.name} has no pending tasks to poll.`,
      retryable: false,
      retryAfterMs: null,
      model: provider.model,
      latencyMs: 0,
    };
  }
  const step = await callProvider(deps, (signal) => poll({ taskId: pending.taskId, signal }));
  return settle(task, step, provider, pending.startedAtMs, clock);
}

type CallStep = { readonly kind: 'reply'; readonly reply: ProviderReply } | { readonly kind: 'error'; readonly error: unknown };

async function callProvider(deps: AiTaskDeps, call: (signal: AbortSignal) => Promise<ProviderReply>): Promise<CallStep> {
  try {
    return { kind: 'reply', reply: await deps.breakers.execute(deps.provider.name, call) };
  } catch (error) {
    return { kind: 'error', error };
  }
}

function settle(task: AiTaskType, step: CallStep, provider: AiProvider, startedAtMs: number, clock: Clock): AiTaskResult {
  const latencyMs = Math.max(0, clock() - startedAtMs);
  if (step.kind === 'error') return failureResult(step.error, provider, latencyMs);

  const { reply } = step;
  switch (reply.status) {
    case 'pending':
      return { outcome: 'pending', model: reply.model, pending: { taskId: reply.taskId, startedAtMs } };
    case 'no_output':
      return { outcome: 'unavailable', reason: reply.reason, model: reply.model, latencyMs };
    case 'completed': {
      const parsed = parseAdvice(task, reply.text);
      return parsed.ok
        ? { outcome: 'ok', advice: parsed.advice, model: reply.model, latencyMs }
        : { outcome: 'unavailable', reason: parsed.reason, model: reply.model, latencyMs };
    }
  }
}

function failureResult(error: unknown, provider: AiProvider, latencyMs: number): AiTaskResult {
  if (error instanceof CircuitOpenError) return { outcome: 'skipped_breaker_open', model: provider.model, latencyMs: 0 };
  if (error instanceof AiProviderError) {
    // A body that is not the provider's envelope is a reply that does not parse.
    if (error.kind === 'invalid_response') return { outcome: 'unavailable', reason: error.message, model: provider.model, latencyMs };
    return {
      outcome: 'failed',
      error: error.message,
      retryable: error.retryable,
      retryAfterMs: error.retryAfterMs,
      model: provider.model,
      latencyMs,
    };
  }
  // An error the adapter did not classify: record it, but do not call the provider again for it.
  return { outcome: 'failed', error: describeError(error), retryable: false, retryAfterMs: null, model: provider.model, latencyMs };
}
