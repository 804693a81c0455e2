import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import type { DecisionContext } from '../../src/decision/types.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { snapshotLedger } from '../../src/ledger/read.js';
import { loadEventFile, loadJourneys, readJourneyState, type Journey } from '../support/journeys.js';
import { openMemoryLedger, type TestLedger } from '../support/ledger-db.js';

const DECISION_CONTEXT: DecisionContext = { livemode: false, manualReviewAmount: 100_000 };
const journeys = loadJourneys();

let ledger: TestLedger | undefined;

afterEach(async () => {
  await ledger?.close();
  ledger = undefined;
});

async function applyFile(current: TestLedger, fileName: string) {
  const event = loadEventFile(fileName);
  return applyEvent(current.db, { event, decision: decide(event, DECISION_CONTEXT) });
}

function eventIdsOf(journey: Journey): string[] {
  return journey.events.map((fileName) => loadEventFile(fileName).id);
}

async function outboxOf(current: TestLedger) {
  return current.db.selectFrom('ledger_outbox').select(['dedupe_key', 'topic', 'payload', 'created_event_id']).orderBy('dedupe_key').execute();
}

describe('journeys applied in their listed order', () => {
  it('covers every journey of the fixtures', () => {
    expect(journeys.length).toBeGreaterThanOrEqual(18);
  });

  it.each(journeys.map((journey) => [journey.id, journey] as const))('%s ends in its expected state', async (_id, journey) => {
    ledger = await openMemoryLedger();
    const seen = new Set<string>();
    for (const fileName of journey.events) {
      const outcome = await applyFile(ledger, fileName);
      // A file listed twice is a redelivery of the same event id.
      expect(outcome.applied).toBe(!seen.has(fileName));
      seen.add(fileName);

      const checkpoint = journey.checkpoints?.[fileName];
      if (checkpoint !== undefined) {
        expect(await readJourneyState(ledger.db, checkpoint), `checkpoint after ${fileName}`).toMatchObject(checkpoint);
      }
    }
    const expected = journey.expected_final_state;
    expect(await readJourneyState(ledger.db, expected, { eventIds: eventIdsOf(journey) })).toMatchObject(expected);
  });

  it.each(journeys.map((journey) => [journey.id, journey] as const))('%s is unchanged when each event arrives twice', async (_id, journey) => {
    const once = await openMemoryLedger();
    for (const fileName of journey.events) await applyFile(once, fileName);
    const expectedSnapshot = await snapshotLedger(once.db);
    const expectedOutbox = await outboxOf(once);
    await once.close();

    ledger = await openMemoryLedger();
    for (const fileName of journey.events) {
      await applyFile(ledger, fileName);
      const second = await applyFile(ledger, fileName);
      expect(second).toEqual({ applied: false, reason: 'already_applied' });
    }
    expect(await snapshotLedger(ledger.db)).toEqual(expectedSnapshot);
    expect(await outboxOf(ledger)).toEqual(expectedOutbox);
    expect(await readJourneyState(ledger.db, journey.expected_final_state, { eventIds: eventIdsOf(journey) })).toMatchObject(
      journey.expected_final_state,
    );
  });
});
