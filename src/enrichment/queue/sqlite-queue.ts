import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LeaseLostError } from '../../errors.js';
import { systemClock, type Clock } from '../../store/ports.js';
import { enrichmentJobId, type EnrichmentJob, type EnrichmentQueue, type EnrichmentRequest } from '../ports.js';
import type { AiTaskType, PendingProviderTask } from '../types.js';

/**
 * Enrichment jobs in the embedded SQLite file. A finished job is deleted (its result lives in
 * the ledger), so the table only contains work still to do.
 *
 * `due_at` (ms) is when a job becomes claimable: the next attempt or poll for a waiting job, and
 * the lease expiry for a running one, so a job whose runner died is claimed again once its lease
 * runs out, and that counts as an attempt.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pipeline_enrichment_jobs (
  id TEXT PRIMARY KEY NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  task TEXT NOT NULL,
  account TEXT,
  attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
  pending TEXT,
  last_error TEXT,
  running INTEGER NOT NULL DEFAULT 0 CHECK (running IN (0, 1)),
  lease_token TEXT,
  due_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pipeline_enrichment_jobs_due ON pipeline_enrichment_jobs (due_at);
`;

interface JobRow {
  id: string;
  event_id: string;
  event_type: string;
  task: string;
  account: string | null;
  attempt: number;
  pending: string | null;
  running: number;
}

export class SqliteEnrichmentQueue implements EnrichmentQueue {
  private readonly clock: Clock;
  private readonly statements: ReturnType<typeof prepareStatements>;

  /** Uses the shared better-sqlite3 handle and creates the table if it does not exist. */
  constructor(
    private readonly database: Database.Database,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    database.exec(SCHEMA);
    this.statements = prepareStatements(database);
  }

  enqueue(request: EnrichmentRequest): Promise<void> {
    return settle(() => {
      this.statements.insert.run({
        id: enrichmentJobId(request.eventId, request.task),
        eventId: request.eventId,
        eventType: request.eventType,
        task: request.task,
        account: request.account,
        now: this.clock(),
      });
    });
  }

  claim(options: { readonly leaseMs: number }): Promise<EnrichmentJob | null> {
    const claimOne = this.database.transaction((): EnrichmentJob | null => {
      const now = this.clock();
      const row = this.statements.nextDue.get(now);
      if (row === undefined) return null;
      const token = randomUUID();
      // A running row that is due again lost its runner (crash or kill); that counts as an attempt.
      const crashed = row.running === 1 ? 1 : 0;
      this.statements.take.run({ id: row.id, token, leaseExpiresAt: now + options.leaseMs, crashed, now });
      return {
        id: row.id,
        eventId: row.event_id,
        eventType: row.event_type,
        task: row.task as AiTaskType,
        account: row.account,
        attempt: row.attempt + crashed,
        pending: parsePending(row.pending),
        leaseToken: token,
      };
    });
    return settle(() => claimOne.immediate());
  }

  complete(job: EnrichmentJob): Promise<void> {
    return settle(() => {
      const { changes } = this.statements.remove.run({ id: job.id, token: job.leaseToken });
      requireLease(changes, job);
    });
  }

  retry(job: EnrichmentJob, request: { readonly delayMs: number; readonly error: string }): Promise<void> {
    return settle(() => {
      const now = this.clock();
      const { changes } = this.statements.retry.run({
        id: job.id,
        token: job.leaseToken,
        error: request.error,
        dueAt: now + Math.max(0, request.delayMs),
        now,
      });
      requireLease(changes, job);
    });
  }

  waitUntil(job: EnrichmentJob, request: { readonly dueAtMs: number; readonly pending: PendingProviderTask }): Promise<void> {
    return settle(() => {
      const { changes } = this.statements.wait.run({
        id: job.id,
        token: job.leaseToken,
        pending: JSON.stringify(request.pending),
        dueAt: request.dueAtMs,
        now: this.clock(),
      });
      requireLease(changes, job);
    });
  }

  count(): Promise<number> {
    return settle(() => this.statements.count.get()?.count ?? 0);
  }

  /** Does nothing, because the database handle belongs to the embedded store, which closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function prepareStatements(database: Database.Database) {
  return {
    insert: database.prepare(
      `INSERT INTO pipeline_enrichment_jobs (id, event_id, event_type, task, account, due_at, created_at, updated_at)
       VALUES (@id, @eventId, @eventType, @task, @account, @now, @now, @now)
       ON CONFLICT (id) DO NOTHING`,
    ),
    nextDue: database.prepare<[number], JobRow>(
      `SELECT id, event_id, event_type, task, account, attempt, pending, running
       FROM pipeline_enrichment_jobs WHERE due_at <= ? ORDER BY due_at, created_at LIMIT 1`,
    ),
    take: database.prepare(
      `UPDATE pipeline_enrichment_jobs
       SET running = 1, lease_token = @token, due_at = @leaseExpiresAt, attempt = attempt + @crashed, updated_at = @now
       WHERE id = @id`,
    ),
    remove: database.prepare('DELETE FROM pipeline_enrichment_jobs WHERE id = @id AND lease_token = @token'),
    retry: database.prepare(
      `UPDATE pipeline_enrichment_jobs
       SET running = 0, lease_token = NULL, attempt = attempt + 1, last_error = @error, due_at = @dueAt, updated_at = @now
       WHERE id = @id AND lease_token = @token`,
    ),
    wait: database.prepare(
      `UPDATE pipeline_enrichment_jobs
       SET running = 0, lease_token = NULL, pending = @pending, due_at = @dueAt, updated_at = @now
       WHERE id = @id AND lease_token = @token`,
    ),
    count: database.prepare<[], { count: number }>('SELECT count(*) AS count FROM pipeline_enrichment_jobs'),
  };
}

// better-sqlite3 is synchronous; this turns a thrown error into a rejected promise.
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

// No row changed: the lease token no longer matches, so another runner claimed the job.
function requireLease(changes: number, job: EnrichmentJob): void {
  if (changes !== 1) throw new LeaseLostError(job.eventId);
}

function parsePending(text: string | null): PendingProviderTask | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) return null;
  const { taskId, startedAtMs } = value as { taskId?: unknown; startedAtMs?: unknown };
  return typeof taskId === 'string' && typeof startedAtMs === 'number' ? { taskId, startedAtMs } : null;
}
