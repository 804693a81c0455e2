import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../store/ports.js';
import { findEnrichment, recordEnrichment, type EnrichmentRecord, type NewEnrichmentRecord } from './ledger-store.js';
import type { AiTaskType } from './types.js';

/** Store of enrichment results that the runner reads and writes, backed by the ledger table in production. */
export interface EnrichmentResults {
  find(eventId: string, task: AiTaskType): Promise<EnrichmentRecord | null>;
  /** Resolves false when an earlier result was kept (see `recordEnrichment`). */
  record(record: NewEnrichmentRecord): Promise<boolean>;
}

/** Enrichment results in the ledger's `ledger_enrichments` table, on SQLite or PostgreSQL. */
export function ledgerEnrichmentResults<DB>(db: Kysely<DB>, clock: Clock = systemClock): EnrichmentResults {
  return {
    find: (eventId, task) => findEnrichment(db, eventId, task),
    record: (record) => recordEnrichment(db, record, new Date(clock())),
  };
}
