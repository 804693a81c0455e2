import type { Migration } from 'kysely';
import { ledgerSchemaMigration } from './0001_ledger.js';
import { enrichmentsMigration } from './0002_enrichments.js';
import { outboxDeliveryMigration } from './0003_outbox_delivery.js';

/**
 * Ledger migrations by name. Kysely's Migrator runs them in the order of their names, so a new
 * migration is a new file `NNNN_name.ts` plus one line here with the next number.
 */
export const ledgerMigrations: Record<string, Migration> = {
  '0001_ledger': ledgerSchemaMigration,
  '0002_enrichments': enrichmentsMigration,
  '0003_outbox_delivery': outboxDeliveryMigration,
};
