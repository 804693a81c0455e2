import type Database from 'better-sqlite3';

export interface PruneResult {
  readonly events: number;
  readonly locks: number;
}

/**
 * Deletes processed events whose processing ended before `cutoffMs`, at most `batchSize` per call
 * so a large backlog never holds the write lock for long, and removes lock rows that expired before
 * `nowMs`. Dead events are kept: they wait for an operator. A processed event deleted here is still
 * protected against a second effect by the ledger's applied marker.
 */
export function pruneSqliteStore(database: Database.Database, options: { cutoffMs: number; nowMs: number; batchSize?: number }): PruneResult {
  const batchSize = options.batchSize ?? 1000;
  const events = database
    .prepare(
      `DELETE FROM pipeline_events WHERE id IN (
         SELECT id FROM pipeline_events WHERE status = 'processed' AND processed_at < ? LIMIT ?
       )`,
    )
    .run(options.cutoffMs, batchSize).changes;
  const locks = database.prepare('DELETE FROM pipeline_locks WHERE expires_at < ?').run(options.nowMs).changes;
  return { events, locks };
}
