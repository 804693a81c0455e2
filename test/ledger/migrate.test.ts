import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrateLedger, pendingLedgerMigrations } from '../../src/ledger/migrate.js';
import { ledgerMigrations } from '../../src/ledger/migrations/index.js';
import { LEDGER_BUSINESS_TABLES } from '../../src/ledger/schema.js';
import { ledgerOn } from '../support/ledger-db.js';

describe('ledger migrations', () => {
  it('names migrations in run order', () => {
    const names = Object.keys(ledgerMigrations);
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9_]+$/);
  });

  it('runs pending migrations once', async () => {
    const ledger = ledgerOn(new Database(':memory:'));
    try {
      expect(await pendingLedgerMigrations(ledger.db)).toEqual(Object.keys(ledgerMigrations));
      await migrateLedger(ledger.db);
      expect(await pendingLedgerMigrations(ledger.db)).toEqual([]);
      await migrateLedger(ledger.db);

      const tables = (await ledger.db.introspection.getTables()).map((table) => table.name);
      for (const table of [...LEDGER_BUSINESS_TABLES, 'ledger_applied_events', 'ledger_outbox']) expect(tables).toContain(table);
      // Kysely's bookkeeping tables carry the ledger's own names, so another component's migrations never mix in.
      expect(tables).toContain('ledger_migration');
      const all = await ledger.db.introspection.getTables({ withInternalKyselyTables: true });
      expect(all.map((table) => table.name)).not.toContain('kysely_migration');
    } finally {
      await ledger.close();
    }
  });
});
