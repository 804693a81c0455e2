import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import type { DecisionContext } from '../../src/decision/types.js';
import { NonRetryableError } from '../../src/errors.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { pendingLedgerMigrations } from '../../src/ledger/migrate.js';
import { postgresMigrationOptions } from '../../src/ledger/postgres.js';
import { findLedgerRecord, snapshotLedger, type LedgerSnapshot } from '../../src/ledger/read.js';
import { loadEventFile, loadJourneys, readJourneyState, type Journey } from '../support/journeys.js';
import { applyAs, clearLedger, fixtureSnapshot, openMemoryLedger } from '../support/ledger-db.js';
import { openPostgresTestLedger, type PostgresTestLedger } from '../support/ledger-postgres.js';

/**
 * The same migrations and queries on PostgreSQL: every journey leaves exactly the ledger it leaves
 * on SQLite, and concurrent workers apply an event once.
 */

const DECISION_CONTEXT: DecisionContext = { livemode: false, manualReviewAmount: 100_000 };

let postgres: PostgresTestLedger;

beforeAll(async () => {
  postgres = await openPostgresTestLedger('portability');
});

afterAll(async () => {
  await postgres?.close();
});

async function replay(db: PostgresTestLedger['db'], fileNames: readonly string[]): Promise<void> {
  for (const fileName of fileNames) {
    const event = loadEventFile(fileName);
    await applyEvent(db, { event, decision: decide(event, DECISION_CONTEXT) });
  }
}

async function sqliteSnapshot(journey: Journey): Promise<LedgerSnapshot> {
  const sqlite = await openMemoryLedger();
  try {
    await replay(sqlite.db, journey.events);
    return await snapshotLedger(sqlite.db);
  } finally {
    await sqlite.close();
  }
}

describe('ledger on PostgreSQL', () => {
  it('has no pending migration', async () => {
    expect(await pendingLedgerMigrations(postgres.db, await postgresMigrationOptions(postgres.db))).toEqual([]);
  });

  it.each(loadJourneys().map((journey) => [journey.id, journey] as const))('%s matches the SQLite ledger', async (_id, journey) => {
    await clearLedger(postgres.db);
    await replay(postgres.db, journey.events);
    const expected = journey.expected_final_state;
    const eventIds = journey.events.map((fileName) => loadEventFile(fileName).id);
    expect(await readJourneyState(postgres.db, expected, { eventIds })).toMatchObject(expected);
    const snapshot = await snapshotLedger(postgres.db);
    expect(snapshot).toEqual(await sqliteSnapshot(journey));

    await clearLedger(postgres.db);
    await replay(postgres.db, [...journey.events].reverse());
    expect(await snapshotLedger(postgres.db)).toEqual(snapshot);
  });

  it('applies concurrent deliveries once', async () => {
    await clearLedger(postgres.db);
    const event = fixtureSnapshot('charge.succeeded.json');
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => applyAs(postgres.db, event, 'mark_order_paid')));

    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
    const messages = await postgres.db.selectFrom('ledger_outbox').select('topic').execute();
    expect(messages).toEqual([{ topic: 'order.paid' }]);
  });

  it('rolls back a failed handler', async () => {
    await clearLedger(postgres.db);
    const malformed = fixtureSnapshot('refund.created.partial.json', (event) => {
      event.data.object['amount'] = null;
    });
    await expect(applyAs(postgres.db, malformed, 'handle_refund')).rejects.toThrow(NonRetryableError);
    expect(await postgres.db.selectFrom('ledger_applied_events').selectAll().execute()).toEqual([]);
  });

  it('reads bigint columns as numbers', async () => {
    await clearLedger(postgres.db);
    await replay(postgres.db, ['charge.succeeded.json', 'refund.created.partial.json']);
    const byIntent = await findLedgerRecord(postgres.db, 'pi_3zx37XEx4mPLeAcckkiDHkmx');
    expect(byIntent).toMatchObject({ kind: 'order', record: { amount_paid: 3000, amount_refunded: 1000, last_event_created: 1786456800 } });
  });
});
