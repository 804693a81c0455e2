import type { Decision } from '../../decision/types.js';
import type {
  ClaimedJob,
  DeadLetterRequest,
  EventFilter,
  EventRecord,
  EventStatus,
  EventStore,
  IncomingEvent,
  IngestOutcome,
  JobQueue,
  RetryRequest,
} from '../ports.js';
import type { RedisStore } from './index.js';

/**
 * A Redis store opened on first use, for a serverless function whose routes do not all need it:
 * `/healthz` and a request with a bad signature never connect. Concurrent callers share one open.
 * After a failed open, the next call tries again, for example once Redis is back. `events` and
 * `queue` open the store before each call and reject with the open's error when it fails.
 */
export class LazyRedisStore {
  readonly events: EventStore;
  readonly queue: JobQueue;
  private readonly open: () => Promise<RedisStore>;
  private opening: Promise<RedisStore> | null = null;

  constructor(open: () => Promise<RedisStore>) {
    this.open = open;
    this.events = new LazyEventStore(() => this.store());
    this.queue = new LazyJobQueue(() => this.store());
  }

  /** Returns the open store, opening it first if no earlier call succeeded. */
  store(): Promise<RedisStore> {
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = null;
      throw error;
    });
    return this.opening;
  }

  /** Closes the store if it was opened; the next call opens it again. */
  async close(): Promise<void> {
    const current = this.opening;
    this.opening = null;
    if (current === null) return;
    const store = await current.catch(() => null);
    await store?.close();
  }
}

class LazyEventStore implements EventStore {
  private readonly store: () => Promise<RedisStore>;

  constructor(store: () => Promise<RedisStore>) {
    this.store = store;
  }

  async ingest(event: IncomingEvent): Promise<IngestOutcome> {
    return (await this.store()).events.ingest(event);
  }

  async get(eventId: string): Promise<EventRecord | null> {
    return (await this.store()).events.get(eventId);
  }

  async list(filter: EventFilter): Promise<EventRecord[]> {
    return (await this.store()).events.list(filter);
  }

  async countByStatus(): Promise<Record<EventStatus, number>> {
    return (await this.store()).events.countByStatus();
  }

  async ping(): Promise<void> {
    return (await this.store()).events.ping();
  }
}

class LazyJobQueue implements JobQueue {
  private readonly store: () => Promise<RedisStore>;

  constructor(store: () => Promise<RedisStore>) {
    this.store = store;
  }

  async claim(options: { leaseMs: number }): Promise<ClaimedJob | null> {
    return (await this.store()).queue.claim(options);
  }

  async extendLease(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    return (await this.store()).queue.extendLease(job, leaseMs);
  }

  async complete(job: ClaimedJob, decision: Decision): Promise<void> {
    return (await this.store()).queue.complete(job, decision);
  }

  async retry(job: ClaimedJob, request: RetryRequest): Promise<void> {
    return (await this.store()).queue.retry(job, request);
  }

  async deadLetter(job: ClaimedJob, request: DeadLetterRequest): Promise<void> {
    return (await this.store()).queue.deadLetter(job, request);
  }

  async release(job: ClaimedJob, delayMs: number): Promise<void> {
    return (await this.store()).queue.release(job, delayMs);
  }

  async listDeadLetters(limit: number): Promise<EventRecord[]> {
    return (await this.store()).queue.listDeadLetters(limit);
  }

  async replay(eventId: string): Promise<EventRecord> {
    return (await this.store()).queue.replay(eventId);
  }
}
