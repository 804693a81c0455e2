import type { Decision } from '../decision/types.js';
import type { EventEnvelope } from '../domain/stripe-event.js';

/**
 * Interfaces (ports) between the pipeline and its storage. The embedded backend implements them
 * on one SQLite file; the distributed backend implements them on Redis. One contract test suite
 * runs against both, so the worker and the HTTP layer never know which one they use.
 */

export const EVENT_STATUSES = ['received', 'processing', 'processed', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * Transitions of the event state machine; any other transition is rejected with
 * InvalidTransitionError.
 * - received → processing: a worker claimed the job.
 * - processing → processed | failed | dead: the attempt ended (failed means a retry is scheduled).
 * - processing → processing: the lease expired and another worker claimed the job again.
 * - processing → received: the worker gave the job back without an attempt (object lock busy, shutdown).
 * - failed → processing: the retry is due and a worker claimed it.
 * - failed | dead → received: an operator replayed the event.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<EventStatus, readonly EventStatus[]>> = {
  received: ['processing'],
  processing: ['processed', 'failed', 'dead', 'processing', 'received'],
  failed: ['processing', 'received'],
  dead: ['received'],
  processed: [],
};

export function canTransition(from: EventStatus, to: EventStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** An event as ingest hands it to the store: the envelope plus the raw body exactly as received. */
export interface IncomingEvent extends EventEnvelope {
  readonly payload: string;
}

export interface EventRecord extends EventEnvelope {
  readonly payload: string;
  readonly status: EventStatus;
  /** Attempts started so far, including one that is running now. */
  readonly attempts: number;
  /** Error of the latest failed attempt; cleared when an attempt completes the event. */
  readonly lastError: string | null;
  readonly decision: Decision | null;
  readonly receivedAt: Date;
  readonly updatedAt: Date;
  /** When the next attempt is due; null unless the event is queued or waiting for a retry. */
  readonly nextAttemptAt: Date | null;
  readonly processedAt: Date | null;
}

export type IngestOutcome =
  | { readonly kind: 'accepted' }
  /** The event id was already recorded and queued; `status` is its current state. */
  | { readonly kind: 'duplicate'; readonly status: EventStatus };

export interface EventFilter {
  readonly status?: EventStatus | undefined;
  readonly type?: string | undefined;
  /** At most this many records, newest first. */
  readonly limit: number;
}

export interface EventStore {
  /**
   * Records the event and enqueues its job in one atomic step. Resolves only once both are
   * durable; rejects with StoreUnavailableError otherwise, so ingest can return 503.
   */
  ingest(event: IncomingEvent): Promise<IngestOutcome>;
  get(eventId: string): Promise<EventRecord | null>;
  list(filter: EventFilter): Promise<EventRecord[]>;
  countByStatus(): Promise<Record<EventStatus, number>>;
  /** Resolves when the store responds; used by `/readyz`. */
  ping(): Promise<void>;
}

/** A job a worker holds under a lease. `leaseToken` proves ownership on every later call. */
export interface ClaimedJob extends EventEnvelope {
  readonly payload: string;
  /** Number of this attempt, starting at 1. */
  readonly attempt: number;
  readonly leaseToken: string;
  readonly leaseExpiresAt: Date;
}

export interface RetryRequest {
  readonly error: string;
  readonly delayMs: number;
  readonly decision: Decision | null;
}

export interface DeadLetterRequest {
  readonly error: string;
  readonly decision: Decision | null;
}

export interface JobQueue {
  /**
   * Claims the next due job (queued, retry due, or lease expired), moves its event to
   * `processing` and counts an attempt. Resolves null when nothing is due.
   */
  claim(options: { leaseMs: number }): Promise<ClaimedJob | null>;
  /** Extends the lease; resolves false when the lease was lost to another worker. */
  extendLease(job: ClaimedJob, leaseMs: number): Promise<boolean>;
  /** processing → processed. Rejects with LeaseLostError if another worker holds the job now. */
  complete(job: ClaimedJob, decision: Decision): Promise<void>;
  /** processing → failed, with the next attempt due after `delayMs`. Rejects with LeaseLostError. */
  retry(job: ClaimedJob, request: RetryRequest): Promise<void>;
  /** processing → dead. Rejects with LeaseLostError. */
  deadLetter(job: ClaimedJob, request: DeadLetterRequest): Promise<void>;
  /** processing → received without counting the attempt, due again after `delayMs`. */
  release(job: ClaimedJob, delayMs: number): Promise<void>;
  listDeadLetters(limit: number): Promise<EventRecord[]>;
  /**
   * Queues a dead or failed event again with its attempts reset (→ received). Rejects with
   * NotFoundError for an unknown id and InvalidTransitionError for any other state.
   */
  replay(eventId: string): Promise<EventRecord>;
}

/** A lock on one Stripe object, so two events about it are never applied at the same time. */
export interface LockHandle {
  readonly key: string;
  /** Extends the lock; resolves false when it expired and someone else took it. */
  extend(ttlMs: number): Promise<boolean>;
  /** Releases the lock if this handle still holds it; never releases another holder's lock. */
  release(): Promise<void>;
}

export interface ObjectLocks {
  /** Takes the lock, or resolves null at once when another holder has it. */
  acquire(key: string, ttlMs: number): Promise<LockHandle | null>;
}

/** Milliseconds since the epoch; injected so tests control leases and backoff exactly. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
