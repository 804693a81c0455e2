import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { Kysely, SqliteDialect } from 'kysely';
import { decisionFor } from '../../src/decision/decision-for.js';
import type { Action, Decision } from '../../src/decision/types.js';
import { parseStripeEvent, type SnapshotEvent, type StripeEvent } from '../../src/domain/stripe-event.js';
import { applyEvent, type ApplyOutcome } from '../../src/ledger/apply.js';
import { migrateLedger } from '../../src/ledger/migrate.js';
import { LEDGER_BUSINESS_TABLES, type LedgerDatabase } from '../../src/ledger/schema.js';

/** Helpers to open throwaway SQLite ledgers and to build events and decisions by hand. */

export interface TestLedger {
  readonly db: Kysely<LedgerDatabase>;
  close(): Promise<void>;
}

export function ledgerOn(database: Database.Database): TestLedger {
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
  return { db, close: () => db.destroy() };
}

/** Opens a migrated in-memory ledger. */
export async function openMemoryLedger(): Promise<TestLedger> {
  const ledger = ledgerOn(new Database(':memory:'));
  await migrateLedger(ledger.db);
  return ledger;
}

/**
 * Opens fresh migrated in-memory ledgers quickly: the schema is migrated once, serialized, and
 * each ledger starts from a copy of those bytes.
 */
export async function createLedgerTemplate(): Promise<() => TestLedger> {
  const database = new Database(':memory:');
  const template = ledgerOn(database);
  await migrateLedger(template.db);
  const bytes = database.serialize();
  await template.close();
  return () => ledgerOn(new Database(bytes));
}

const FIXTURES = new URL('../../fixtures/stripe-events/', import.meta.url);

/** Reads and parses one fixture event file. */
export function loadFixtureEvent(fileName: string): StripeEvent {
  const parsed = parseStripeEvent(JSON.parse(readFileSync(new URL(fileName, FIXTURES), 'utf8')));
  if (!parsed.ok) throw new Error(`Fixture ${fileName} is not a Stripe event: ${parsed.problem}`);
  return parsed.event;
}

/** A fixture snapshot event, optionally changed: `change` gets a deep copy to edit. */
export function fixtureSnapshot(fileName: string, change?: (event: SnapshotEvent) => void): SnapshotEvent {
  const event = loadFixtureEvent(fileName);
  if (event.object !== 'event') throw new Error(`Fixture ${fileName} is a thin event.`);
  const copy = structuredClone(event);
  change?.(copy);
  return copy;
}

export function handMadeDecision(action: Action, metadata: Decision['metadata'] = {}, priority: Decision['priority'] = 'normal'): Decision {
  return decisionFor(action, `Test decision for ${action}.`, { metadata, priority });
}

/** Applies an event with a hand-made decision for `action`. */
export function applyAs(
  db: Kysely<LedgerDatabase>,
  event: StripeEvent,
  action: Action,
  metadata: Decision['metadata'] = {},
  priority: Decision['priority'] = 'normal',
): Promise<ApplyOutcome> {
  return applyEvent(db, { event, decision: handMadeDecision(action, metadata, priority) });
}

/** Topics of every outbox message, sorted. */
export async function outboxTopics(db: Kysely<LedgerDatabase>): Promise<string[]> {
  const rows = await db.selectFrom('ledger_outbox').select(['topic']).orderBy('topic').execute();
  return rows.map((row) => row.topic);
}

/** Deletes every row of the ledger tables, so one database can replay journey after journey. */
export async function clearLedger(db: Kysely<LedgerDatabase>): Promise<void> {
  for (const table of [...LEDGER_BUSINESS_TABLES, 'ledger_applied_events', 'ledger_outbox'] as const) {
    await db.deleteFrom(table).execute();
  }
}
