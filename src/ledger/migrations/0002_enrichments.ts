import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The AI enrichment results: at most one row per event and task, which is also the cache that
 * keeps a redelivered or replayed event from calling a model twice. Advice is JSON text and
 * `created_at` ISO-8601 text, so the migration runs unchanged on SQLite and PostgreSQL.
 */
async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ledger_enrichments')
    .addColumn('event_id', 'text', (column) => column.notNull())
    .addColumn('task', 'text', (column) => column.notNull())
    .addColumn('account', 'text', (column) => column.notNull())
    .addColumn('event_type', 'text', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('outcome', 'text', (column) =>
      column.notNull().check(sql`outcome in ('ok', 'unavailable', 'failed', 'skipped_breaker_open')`),
    )
    .addColumn('advice', 'text')
    .addColumn('error', 'text')
    .addColumn('latency_ms', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('ledger_enrichments_pk', ['event_id', 'task'])
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ledger_enrichments').execute();
}

export const enrichmentsMigration: Migration = { up, down };
