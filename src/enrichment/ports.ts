import type { Decision } from '../decision/types.js';
import type { EventEnvelope } from '../domain/stripe-event.js';
import type { AiTaskType, PendingProviderTask } from './types.js';

/** Enrichment request the worker sends once an event's business effect has committed. */
export interface EnrichmentRequest {
  readonly eventId: string;
  readonly eventType: string;
  readonly task: AiTaskType;
  /** Connected account (`acct_…`) for Connect events, otherwise null. */
  readonly account: string | null;
}

/** A job the runner holds. `leaseToken` proves ownership on every later call. */
export interface EnrichmentJob extends EnrichmentRequest {
  /** Stable id of the job: one per event and task. */
  readonly id: string;
  /** Number of the current attempt, starting at 1; polls of a pending task do not count. */
  readonly attempt: number;
  /** Set while an asynchronous provider task is running and the job waits between polls. */
  readonly pending: PendingProviderTask | null;
  readonly leaseToken: string;
}

/**
 * The enrichment queue: its own low-priority queue, separate from the event queue, so enrichment
 * never delays business processing. The SQLite and BullMQ implementations behave the same.
 */
export interface EnrichmentQueue {
  /**
   * Queues a job for the event and task. Idempotent: while a job for the same event and task is
   * queued, waiting or running, another call changes nothing. After the job has finished, a new
   * call queues it again, and the runner finds the recorded result instead of calling the model.
   */
  enqueue(request: EnrichmentRequest): Promise<void>;
  /** Claims the next due job under a lease of `leaseMs`; resolves null when none is due. */
  claim(options: { readonly leaseMs: number }): Promise<EnrichmentJob | null>;
  /** Removes a finished job; its result is in the ledger. */
  complete(job: EnrichmentJob): Promise<void>;
  /** Schedules the next attempt after `delayMs` and counts it. */
  retry(job: EnrichmentJob, request: { readonly delayMs: number; readonly error: string }): Promise<void>;
  /**
   * Puts the job back until `dueAtMs` without counting an attempt, keeping `pending`, so an
   * asynchronous provider task is polled later without holding a runner slot in between.
   */
  waitUntil(job: EnrichmentJob, request: { readonly dueAtMs: number; readonly pending: PendingProviderTask }): Promise<void>;
  /** Jobs not finished yet (queued, waiting or running); for tests and the admin API. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** Job id for an event and task; also the idempotency key of `enqueue`. */
export function enrichmentJobId(eventId: string, task: AiTaskType): string {
  return `${eventId}.${task}`;
}

/**
 * Returns the enrichment request for an event whose decision asks for AI advice, or null when it
 * does not. `decision.provider` is not used, because one process runs one configured provider.
 */
export function enrichmentRequestFor(event: EventEnvelope, decision: Decision): EnrichmentRequest | null {
  if (!decision.requiresAi || decision.aiTask === null) return null;
  return { eventId: event.id, eventType: event.type, task: decision.aiTask, account: event.account };
}
