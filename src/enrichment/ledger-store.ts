import type { Kysely } from 'kysely';
import type { AiTaskType, EnrichmentOutcome } from './types.js';

/** Row of `ledger_enrichments` (migration `0002_enrichments`). */
export interface LedgerEnrichmentsTable {
  event_id: string;
  task: string;
  /** Connected account (`acct_…`), or `''` for the platform account. */
  account: string;
  event_type: string;
  provider: string;
  model: string;
  outcome: EnrichmentOutcome;
  /** The validated advice as JSON text; null unless the outcome is `ok`. */
  advice: string | null;
  error: string | null;
  latency_ms: number;
  /** ISO-8601 time the result was recorded. */
  created_at: string;
}

export interface EnrichmentTables {
  ledger_enrichments: LedgerEnrichmentsTable;
}

export interface EnrichmentRecord {
  readonly eventId: string;
  readonly task: AiTaskType;
  readonly account: string | null;
  readonly eventType: string;
  readonly provider: string;
  readonly model: string;
  readonly outcome: EnrichmentOutcome;
  /** Advice as validated when it was recorded; null for every outcome but `ok`. */
  readonly advice: Readonly<Record<string, unknown>> | null;
  /** Reason the advice is missing, for `unavailable`, `failed` and `skipped_breaker_open`. */
  readonly error: string | null;
  readonly latencyMs: number;
  readonly createdAt: Date;
}

export type NewEnrichmentRecord = Omit<EnrichmentRecord, 'createdAt'>;

// The ledger's Kysely type lists many tables; these functions only need this one. Kysely's type
// is invariant in its table map, so the generic parameter accepts any database type.
function enrichmentDb<DB>(db: Kysely<DB>): Kysely<EnrichmentTables> {
  return db as unknown as Kysely<EnrichmentTables>;
}

/** Returns every enrichment recorded for an event, oldest first. */
export async function findEnrichments<DB>(db: Kysely<DB>, eventId: string): Promise<EnrichmentRecord[]> {
  const rows = await enrichmentDb(db)
    .selectFrom('ledger_enrichments')
    .selectAll()
    .where('event_id', '=', eventId)
    .orderBy('created_at')
    .orderBy('task')
    .execute();
  return rows.map(recordFromRow);
}

/** Returns the enrichment of one event and task, or null when none is recorded. */
export async function findEnrichment<DB>(db: Kysely<DB>, eventId: string, task: AiTaskType): Promise<EnrichmentRecord | null> {
  const row = await enrichmentDb(db)
    .selectFrom('ledger_enrichments')
    .selectAll()
    .where('event_id', '=', eventId)
    .where('task', '=', task)
    .executeTakeFirst();
  return row === undefined ? null : recordFromRow(row);
}

/**
 * Records the result of an enrichment. The first result for an event and task wins, so a
 * redelivered event never replaces advice, with one exception: a `skipped_breaker_open` row is
 * replaced, because the provider was never called for it. Resolves false when an existing row was
 * kept.
 */
export async function recordEnrichment<DB>(db: Kysely<DB>, record: NewEnrichmentRecord, now: Date): Promise<boolean> {
  const row: LedgerEnrichmentsTable = {
    event_id: record.eventId,
    task: record.task,
    account: record.account ?? '',
    event_type: record.eventType,
    provider: record.provider,
    model: record.model,
    outcome: record.outcome,
    advice: record.advice === null ? null : JSON.stringify(record.advice),
    error: record.error,
    latency_ms: Math.round(record.latencyMs),
    created_at: now.toISOString(),
  };
  const result = await enrichmentDb(db)
    .insertInto('ledger_enrichments')
    .values(row)
    .onConflict((conflict) =>
      conflict
        .columns(['event_id', 'task'])
        .doUpdateSet({
          provider: row.provider,
          model: row.model,
          outcome: row.outcome,
          advice: row.advice,
          error: row.error,
          latency_ms: row.latency_ms,
          created_at: row.created_at,
        })
        .where('ledger_enrichments.outcome', '=', 'skipped_breaker_open'),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

function recordFromRow(row: LedgerEnrichmentsTable): EnrichmentRecord {
  return {
    eventId: row.event_id,
    task: row.task as AiTaskType,
    account: row.account === '' ? null : row.account,
    eventType: row.event_type,
    provider: row.provider,
    model: row.model,
    outcome: row.outcome,
    advice: parseAdviceColumn(row.advice),
    error: row.error,
    latencyMs: Number(row.latency_ms),
    createdAt: new Date(row.created_at),
  };
}

function parseAdviceColumn(text: string | null): Readonly<Record<string, unknown>> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    // Only this module writes the column, always with JSON.stringify; a broken value reads as none.
    return null;
  }
}
