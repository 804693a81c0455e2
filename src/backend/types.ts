import type Database from 'better-sqlite3';
import type { SqliteGate } from '../store/sqlite/gate.js';
import type { Kysely } from 'kysely';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { EventStore, JobQueue, ObjectLocks } from '../store/ports.js';

export type ReadinessChecks = Record<string, { ok: boolean; detail?: string }>;

/** Everything a process needs from storage, whichever backend provides it. */
export interface Backend {
  readonly kind: 'embedded' | 'distributed';
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly locks: ObjectLocks;
  readonly ledger: Kysely<LedgerDatabase>;
  /**
   * The embedded SQLite handle, which also contains the enrichment queue, and the gate that every
   * user of the handle must acquire; absent in distributed mode.
   */
  readonly sqlite?: { readonly database: Database.Database; readonly gate: SqliteGate };
  /**
   * Removes what the retention window no longer needs (old processed events, expired locks); the
   * worker process calls it periodically. Absent when the backend expires data by itself.
   */
  runMaintenance?(): Promise<{ readonly prunedEvents: number }>;
  /** Checks each dependency; `/readyz` returns 503 when one fails. */
  readiness(): Promise<ReadinessChecks>;
  close(): Promise<void>;
}
