import type { Kysely, Migration } from 'kysely';

/** Columns the outbox relay adds to `ledger_outbox`; every one is ISO-8601 or free text, and nullable. */
const DELIVERY_COLUMNS = ['next_attempt_at', 'last_error', 'lease_until', 'lease_token'] as const;

/**
 * Delivery state of the outbox: when the next attempt is due, the error of the last failed one, and
 * the lease a relay takes while it sends a message. Existing messages get NULLs, which the relay
 * reads as "due now, not leased". The index serves the per-account ordering check.
 */
async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of DELIVERY_COLUMNS) {
    await db.schema.alterTable('ledger_outbox').addColumn(column, 'text').execute();
  }
  await db.schema.createIndex('ledger_outbox_account_idx').on('ledger_outbox').columns(['account', 'status', 'created_at']).execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  // SQLite refuses to drop a column that an index covers, so the index goes first.
  await db.schema.dropIndex('ledger_outbox_account_idx').execute();
  for (const column of [...DELIVERY_COLUMNS].reverse()) {
    await db.schema.alterTable('ledger_outbox').dropColumn(column).execute();
  }
}

export const outboxDeliveryMigration: Migration = { up, down };
