import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Decision } from '../../decision/types.js';
import { InvalidTransitionError, LeaseLostError, NotFoundError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type {
  ClaimedJob,
  Clock,
  DeadLetterRequest,
  EventRecord,
  EventStatus,
  JobQueue,
  RetryRequest,
} from '../ports.js';
import { assertLimit, assertMilliseconds } from './arguments.js';
import { EVENT_COLUMNS, toEventRecord, type EventRow } from './event-row.js';
import { guardSqlite } from './store-errors.js';

interface ClaimedRow {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly livemode: number;
  readonly account: string | null;
  readonly payload: string;
  readonly attempts: number;
}

interface LeaseParams {
  readonly id: string;
  readonly token: string;
  readonly now: number;
}

interface OutcomeParams extends LeaseParams {
  readonly error: string | null;
  readonly decision: string | null;
  readonly dueAt: number | null;
}

/** Selects the lease holder's row only while it is still `processing` under that holder's token. */
const HELD_BY_TOKEN = "WHERE id = @id AND lease_token = @token AND status = 'processing'";

/**
 * Job queue of the embedded backend, on the same rows as SqliteEventStore. A claim hands out a
 * random lease token and sets `due_at` to the lease expiry, so a job whose worker died becomes due
 * again by itself. Every later call must present the token: a different token on the row means
 * another worker claimed the job after the lease expired (LeaseLostError).
 *
 * A holder whose lease expired may still finish the job as long as no other worker claimed it in
 * between, because then no other worker can have started on it.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly database: Database.Database;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private readonly claimStatement: Database.Statement<[{ now: number; token: string; leaseExpiresAt: number }], ClaimedRow>;
  private readonly extendStatement: Database.Statement<[LeaseParams & { leaseExpiresAt: number }]>;
  private readonly completeStatement: Database.Statement<[LeaseParams & { decision: string }]>;
  private readonly retryStatement: Database.Statement<[OutcomeParams]>;
  private readonly deadLetterStatement: Database.Statement<[OutcomeParams]>;
  private readonly releaseStatement: Database.Statement<[LeaseParams & { dueAt: number }]>;
  private readonly selectLease: Database.Statement<[string], { status: string; lease_token: string | null }>;
  private readonly selectDeadLetters: Database.Statement<[number], EventRow>;
  private readonly replayStatement: Database.Statement<[{ id: string; now: number }], EventRow>;

  private readonly claimTransaction: Database.Transaction<(leaseMs: number) => ClaimedJob | null>;
  private readonly finishTransaction: Database.Transaction<(job: ClaimedJob, to: EventStatus, write: () => Database.RunResult) => void>;
  private readonly replayTransaction: Database.Transaction<(eventId: string) => { record: EventRecord; from: string }>;

  constructor(database: Database.Database, options: { clock: Clock; logger: Logger }) {
    this.database = database;
    this.clock = options.clock;
    this.logger = options.logger;

    // Queued, retry-due and lease-expired jobs all have `due_at` in the past. The partial index on
    // `due_at` returns the earliest, and the insertion order (rowid) breaks ties.
    this.claimStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'processing', attempts = attempts + 1, lease_token = @token, due_at = @leaseExpiresAt, updated_at = @now
       WHERE id = (SELECT id FROM pipeline_events WHERE due_at <= @now ORDER BY due_at, rowid LIMIT 1)
       RETURNING id, type, created, livemode, account, payload, attempts`,
    );
    this.extendStatement = database.prepare(`UPDATE pipeline_events SET due_at = @leaseExpiresAt ${HELD_BY_TOKEN}`);
    // The error of an earlier attempt no longer describes a processed event; `attempts` still shows the retries.
    this.completeStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'processed', decision = @decision, last_error = NULL, processed_at = @now, updated_at = @now, due_at = NULL
       ${HELD_BY_TOKEN}`,
    );
    // A failed attempt may end before a decision was made, and then the earlier decision is kept.
    this.retryStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'failed', last_error = @error, decision = coalesce(@decision, decision), updated_at = @now, due_at = @dueAt
       ${HELD_BY_TOKEN}`,
    );
    this.deadLetterStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'dead', last_error = @error, decision = coalesce(@decision, decision), updated_at = @now, due_at = @dueAt
       ${HELD_BY_TOKEN}`,
    );
    this.releaseStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'received', attempts = attempts - 1, updated_at = @now, due_at = @dueAt
       ${HELD_BY_TOKEN}`,
    );
    this.selectLease = database.prepare('SELECT status, lease_token FROM pipeline_events WHERE id = ?');
    this.selectDeadLetters = database.prepare(
      `SELECT ${EVENT_COLUMNS} FROM pipeline_events WHERE status = 'dead' ORDER BY updated_at DESC, rowid DESC LIMIT ?`,
    );
    this.replayStatement = database.prepare(
      `UPDATE pipeline_events
       SET status = 'received', attempts = 0, updated_at = @now, due_at = @now
       WHERE id = @id AND status IN ('failed', 'dead')
       RETURNING ${EVENT_COLUMNS}`,
    );

    this.claimTransaction = database.transaction((leaseMs: number): ClaimedJob | null => {
      // Read the clock once the write lock is held, so time spent waiting for it is not lost from the lease.
      const now = this.clock();
      const token = randomUUID();
      const leaseExpiresAt = now + leaseMs;
      const row = this.claimStatement.get({ now, token, leaseExpiresAt });
      if (row === undefined) return null;
      return {
        id: row.id,
        type: row.type,
        created: row.created,
        livemode: row.livemode === 1,
        account: row.account,
        payload: row.payload,
        attempt: row.attempts,
        leaseToken: token,
        leaseExpiresAt: new Date(leaseExpiresAt),
      };
    });

    this.finishTransaction = database.transaction((job: ClaimedJob, to: EventStatus, write: () => Database.RunResult): void => {
      if (write().changes === 1) return;
      throw this.explainRejectedWrite(job, to);
    });

    this.replayTransaction = database.transaction((eventId: string) => {
      const current = this.selectLease.get(eventId);
      if (current === undefined) throw new NotFoundError('Event', eventId);
      // The update matches only `failed` and `dead` rows, because no other state can be replayed.
      const row = this.replayStatement.get({ id: eventId, now: this.clock() });
      if (row === undefined) throw new InvalidTransitionError(eventId, current.status, 'received');
      return { record: toEventRecord(row, this.logger), from: current.status };
    });
  }

  claim(options: { leaseMs: number }): Promise<ClaimedJob | null> {
    // IMMEDIATE takes the write lock before the SELECT runs, so two processes on one file can
    // never both pick the same row. The second waits up to busy_timeout and then reads the update.
    return guardSqlite(this.database, this.logger, 'claim a job', {}, () => {
      assertMilliseconds('leaseMs', options.leaseMs, 1);
      return this.claimTransaction.immediate(options.leaseMs);
    });
  }

  extendLease(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    return guardSqlite(this.database, this.logger, 'extend a lease', { eventId: job.id, attempt: job.attempt }, () => {
      assertMilliseconds('leaseMs', leaseMs, 1);
      const now = this.clock();
      const result = this.extendStatement.run({ id: job.id, token: job.leaseToken, now, leaseExpiresAt: now + leaseMs });
      return result.changes === 1;
    });
  }

  complete(job: ClaimedJob, decision: Decision): Promise<void> {
    return this.finish('complete a job', job, 'processed', (now) =>
      this.completeStatement.run({ id: job.id, token: job.leaseToken, now, decision: JSON.stringify(decision) }),
    );
  }

  retry(job: ClaimedJob, request: RetryRequest): Promise<void> {
    return this.finish('schedule a retry', job, 'failed', (now) => {
      assertMilliseconds('delayMs', request.delayMs, 0);
      return this.retryStatement.run({
        id: job.id,
        token: job.leaseToken,
        now,
        error: request.error,
        decision: request.decision === null ? null : JSON.stringify(request.decision),
        dueAt: now + request.delayMs,
      });
    });
  }

  deadLetter(job: ClaimedJob, request: DeadLetterRequest): Promise<void> {
    return this.finish('dead-letter a job', job, 'dead', (now) =>
      this.deadLetterStatement.run({
        id: job.id,
        token: job.leaseToken,
        now,
        error: request.error,
        decision: request.decision === null ? null : JSON.stringify(request.decision),
        dueAt: null,
      }),
    );
  }

  release(job: ClaimedJob, delayMs: number): Promise<void> {
    return this.finish('release a job', job, 'received', (now) => {
      assertMilliseconds('delayMs', delayMs, 0);
      return this.releaseStatement.run({ id: job.id, token: job.leaseToken, now, dueAt: now + delayMs });
    });
  }

  listDeadLetters(limit: number): Promise<EventRecord[]> {
    return guardSqlite(this.database, this.logger, 'list dead letters', {}, () => {
      assertLimit(limit);
      return this.selectDeadLetters.all(limit).map((row) => toEventRecord(row, this.logger));
    });
  }

  async replay(eventId: string): Promise<EventRecord> {
    const { record, from } = await guardSqlite(this.database, this.logger, 'replay an event', { eventId }, () =>
      this.replayTransaction.immediate(eventId),
    );
    this.logger.info({ eventId, eventType: record.type, from }, 'event replayed');
    return record;
  }

  private finish(action: string, job: ClaimedJob, to: EventStatus, write: (now: number) => Database.RunResult): Promise<void> {
    return guardSqlite(this.database, this.logger, action, { eventId: job.id, attempt: job.attempt }, () =>
      this.finishTransaction(job, to, () => write(this.clock())),
    );
  }

  /** Names why a write guarded by the lease token changed no row. */
  private explainRejectedWrite(job: ClaimedJob, to: EventStatus): Error {
    const current = this.selectLease.get(job.id);
    if (current === undefined) return new NotFoundError('Event', job.id);
    if (current.lease_token !== job.leaseToken) return new LeaseLostError(job.id);
    // Same holder, but the job already left `processing` (for example completed twice).
    return new InvalidTransitionError(job.id, current.status, to);
  }
}
