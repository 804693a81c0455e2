import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxDeliveryMigration } from '../../src/ledger/migrations/0003_outbox_delivery.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { openMemoryLedger, type TestLedger } from '../support/ledger-db.js';
import { openPostgresTestLedger, type PostgresTestLedger } from '../support/ledger-postgres.js';

const DELIVERY_COLUMNS = ['lease_token', 'lease_until', 'last_error', 'next_attempt_at'];

/** Column names of `ledger_outbox`; on PostgreSQL only in `schema`, because the test database contains other schemas too. */
async function outboxColumns(db: Kysely<LedgerDatabase>, schema: string | undefined): Promise<string[]> {
  const tables = await db.introspection.getTables();
  const outbox = tables.find((table) => table.name === 'ledger_outbox' && (schema === undefined || table.schema === schema));
  return (outbox?.columns ?? []).map((column) => column.name).sort();
}

function schemaOf(ledger: TestLedger | PostgresTestLedger): string | undefined {
  return 'schema' in ledger ? ledger.schema : undefined;
}

describe.each([
  ['SQLite', async () => openMemoryLedger()],
  ['PostgreSQL', async () => openPostgresTestLedger('outbox_migration')],
] as const)('migration 0003_outbox_delivery on %s', (_label, open) => {
  let ledger: TestLedger | PostgresTestLedger;

  beforeAll(async () => {
    ledger = await open();
  });

  afterAll(async () => {
    await ledger?.close();
  });

  it('adds the delivery columns', async () => {
    expect(await outboxColumns(ledger.db, schemaOf(ledger))).toEqual(expect.arrayContaining(DELIVERY_COLUMNS));
  });

  it('removes them again on the way down', async () => {
    await outboxDeliveryMigration.down?.(ledger.db);
    const columns = await outboxColumns(ledger.db, schemaOf(ledger));
    for (const column of DELIVERY_COLUMNS) expect(columns).not.toContain(column);
    await outboxDeliveryMigration.up(ledger.db);
    expect(await outboxColumns(ledger.db, schemaOf(ledger))).toEqual(expect.arrayContaining(DELIVERY_COLUMNS));
  });
});
