import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../src/ledger/apply.js';
import { toInteger } from '../../src/ledger/columns.js';
import { migrateLedger, pendingLedgerMigrations } from '../../src/ledger/migrate.js';
import { createPostgresLedger, postgresMigrationOptions } from '../../src/ledger/postgres.js';
import { snapshotLedger } from '../../src/ledger/read.js';
import { LEDGER_BUSINESS_TABLES, type LedgerDatabase } from '../../src/ledger/schema.js';
import { createSilentLogger } from '../../src/logger.js';
import { loadJourneys } from '../../src/samples/fixtures.js';
import { instantiateJourney } from '../../src/samples/instantiate.js';
import { findMismatches } from '../../src/samples/compare.js';
import { readJourneyState } from '../../src/samples/journey-state.js';
import { createLedgerTemplate, type TestLedger } from '../support/ledger-db.js';
import { decidedEventsOf, seededRandom, shuffled, type DecidedEvent } from './support/journey-events.js';
import { createTestSchema, type TestSchema } from './support/services.js';

const ORDERINGS_PER_JOURNEY = 50;
/** Journey copies applied to PostgreSQL at the same time; each copy's events stay sequential. */
const PARALLEL_COPIES = 4;
const SEED = 20_260_801;

type Db = Kysely<LedgerDatabase>;

async function applyAll(db: Db, events: readonly DecidedEvent[]): Promise<void> {
  for (const { event, decision } of events) await applyEvent(db, { event, decision });
}

async function countRows(db: Db, table: 'ledger_applied_events' | 'ledger_outbox'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((select) => select.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  return toInteger(row.count);
}

/** Compares by UTF-16 code units, the same order on every machine (unlike `localeCompare`). */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** Outbox messages without their random ids and wall-clock times, in a stable order. */
async function outboxOf(db: Db): Promise<{ topic: string; dedupe_key: string; payload: string; created_event_id: string }[]> {
  const rows = await db.selectFrom('ledger_outbox').select(['topic', 'dedupe_key', 'payload', 'created_event_id']).execute();
  return rows
    .map((row) => ({ ...row, payload: JSON.stringify(JSON.parse(row.payload)) }))
    .sort((left, right) => compareText(left.dedupe_key, right.dedupe_key));
}

describe('postgresql ledger', () => {
  let schema: TestSchema;
  let ledger: Db;
  let newSqliteLedger: () => TestLedger;

  async function resetPostgres(): Promise<void> {
    const tables = [...LEDGER_BUSINESS_TABLES, 'ledger_applied_events', 'ledger_outbox'];
    await sql`truncate table ${sql.join(tables.map((table) => sql.table(table)))}`.execute(ledger);
  }

  beforeAll(async () => {
    schema = await createTestSchema('ledger');
    // Enough connections for the ten concurrent transactions of the concurrency test.
    ledger = createPostgresLedger({ url: schema.baseUrl, schema: schema.schema, logger: createSilentLogger(), maxConnections: 12 });
    const options = await postgresMigrationOptions(ledger);
    expect(options.migrationTableSchema).toBe(schema.schema);
    await migrateLedger(ledger, options);
    newSqliteLedger = await createLedgerTemplate();
  });

  afterAll(async () => {
    await ledger?.destroy();
    await schema?.drop();
  });

  it('runs every migration in its own schema', async () => {
    expect(await pendingLedgerMigrations(ledger, await postgresMigrationOptions(ledger))).toEqual([]);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${schema.schema} order by table_name
    `.execute(ledger);
    const names = tables.rows.map((row) => row.table_name);
    expect(names).toContain('ledger_migration');
    expect(names).toContain('ledger_orders');
    expect(names).toContain('ledger_enrichments');
  });

  describe('when each journey arrives in its listed order', () => {
    for (const journey of loadJourneys()) {
      it(`ends ${journey.id} in the expected state`, async () => {
        await resetPostgres();
        const copy = instantiateJourney(journey, '');
        const events = decidedEventsOf(copy);
        const sqlite = newSqliteLedger();
        try {
          await applyAll(ledger, events);
          await applyAll(sqlite.db, events);

          const eventIds = events.map(({ event }) => event.id);
          const actual = await readJourneyState(ledger, copy.expected, { eventIds });
          expect(findMismatches(copy.expected, actual)).toEqual([]);
          expect(await snapshotLedger(ledger)).toEqual(await snapshotLedger(sqlite.db));
          expect(await outboxOf(ledger)).toEqual(await outboxOf(sqlite.db));
          expect(await countRows(ledger, 'ledger_applied_events')).toBe(new Set(eventIds).size);
        } finally {
          await sqlite.close();
        }
      });
    }
  });

  it(`matches sqlite over ${ORDERINGS_PER_JOURNEY} random orderings per journey`, async () => {
    await resetPostgres();
    const random = seededRandom(SEED);
    const orderings = loadJourneys().flatMap((journey, journeyIndex) =>
      Array.from({ length: ORDERINGS_PER_JOURNEY }, (_, copyIndex) => {
        const tag = `j${journeyIndex}c${copyIndex}`;
        return shuffled(decidedEventsOf(instantiateJourney(journey, tag)), random);
      }),
    );

    const sqlite = newSqliteLedger();
    try {
      for (const events of orderings) await applyAll(sqlite.db, events);
      let next = 0;
      const lanes = Array.from({ length: PARALLEL_COPIES }, async () => {
        while (next < orderings.length) {
          const events = orderings[next];
          next += 1;
          if (events !== undefined) await applyAll(ledger, events);
        }
      });
      await Promise.all(lanes);

      const distinctEvents = new Set(orderings.flat().map(({ event }) => event.id)).size;
      expect(await countRows(ledger, 'ledger_applied_events')).toBe(distinctEvents);
      expect(await countRows(ledger, 'ledger_outbox')).toBe(await countRows(sqlite.db, 'ledger_outbox'));
      expect(await snapshotLedger(ledger)).toEqual(await snapshotLedger(sqlite.db));
      expect(await outboxOf(ledger)).toEqual(await outboxOf(sqlite.db));
    } finally {
      await sqlite.close();
    }
  }, 120_000);

  it('applies one event once under 10 concurrent transactions', async () => {
    await resetPostgres();
    const journey = loadJourneys().find((candidate) => candidate.id === 'checkout_card_paid');
    if (journey === undefined) throw new Error('The journey checkout_card_paid is missing from the fixtures.');
    const events = decidedEventsOf(instantiateJourney(journey, 'concurrent'));
    const paid = events.find(({ event }) => event.type === 'checkout.session.completed');
    if (paid === undefined) throw new Error('The journey checkout_card_paid has no checkout.session.completed event.');

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => applyEvent(ledger, paid)));

    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
    expect(outcomes.filter((outcome) => !outcome.applied)).toHaveLength(9);
    expect(await countRows(ledger, 'ledger_applied_events')).toBe(1);
    const messages = await outboxOf(ledger);
    expect(messages.map((message) => message.topic)).toEqual(['order.paid']);

    const sqlite = newSqliteLedger();
    try {
      await applyEvent(sqlite.db, paid);
      expect(await snapshotLedger(ledger)).toEqual(await snapshotLedger(sqlite.db));
    } finally {
      await sqlite.close();
    }
  });
});
