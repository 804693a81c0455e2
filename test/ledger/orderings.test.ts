import { beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import type { Decision, DecisionContext } from '../../src/decision/types.js';
import type { StripeEvent } from '../../src/domain/stripe-event.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { snapshotLedger, type LedgerSnapshot } from '../../src/ledger/read.js';
import { loadEventFile, loadJourneys, readJourneyState, type Journey } from '../support/journeys.js';
import { createLedgerTemplate, type TestLedger } from '../support/ledger-db.js';

/**
 * Stripe neither orders nor deduplicates deliveries, so every delivery order of a journey must
 * leave the same ledger: all permutations for journeys of up to 6 distinct events, and 1,000
 * seeded random orderings with random duplicate deliveries for longer ones.
 */

const DECISION_CONTEXT: DecisionContext = { livemode: false, manualReviewAmount: 100_000 };
const MAX_EVENTS_FOR_ALL_PERMUTATIONS = 6;
const RANDOM_ORDERINGS = 1_000;
const DUPLICATE_PROBABILITY = 0.3;

interface Delivery {
  readonly event: StripeEvent;
  readonly decision: Decision;
}

let openLedger: () => TestLedger;

beforeAll(async () => {
  openLedger = await createLedgerTemplate();
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

/** Mulberry32: a small seeded generator, so a failing ordering can be reproduced from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Shuffles the deliveries and delivers some of them a second time at a random point. */
function randomOrdering<T>(items: readonly T[], random: () => number): T[] {
  const ordering = [...items];
  for (let index = ordering.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [ordering[index], ordering[other]] = [ordering[other] as T, ordering[index] as T];
  }
  for (const item of items) {
    if (random() < DUPLICATE_PROBABILITY) ordering.splice(Math.floor(random() * (ordering.length + 1)), 0, item);
  }
  return ordering;
}

function deliveryOf(fileName: string): Delivery {
  const event = loadEventFile(fileName);
  return { event, decision: decide(event, DECISION_CONTEXT) };
}

interface OrderingResult {
  readonly snapshot: LedgerSnapshot;
  readonly state: Record<string, unknown>;
  readonly markers: number;
  /** Number of `order.paid` messages per dedupe key. */
  readonly orderPaidMessages: number;
}

async function applyOrdering(journey: Journey, deliveries: readonly Delivery[]): Promise<OrderingResult> {
  const ledger = openLedger();
  try {
    for (const delivery of deliveries) await applyEvent(ledger.db, delivery);
    const markers = await ledger.db.selectFrom('ledger_applied_events').select('event_id').execute();
    const paid = await ledger.db.selectFrom('ledger_outbox').select('dedupe_key').where('topic', '=', 'order.paid').execute();
    return {
      snapshot: await snapshotLedger(ledger.db),
      state: await readJourneyState(ledger.db, journey.expected_final_state, { eventIds: deliveries.map((delivery) => delivery.event.id) }),
      markers: markers.length,
      orderPaidMessages: paid.length,
    };
  } finally {
    await ledger.close();
  }
}

function describeOrdering(deliveries: readonly Delivery[]): string {
  return deliveries.map((delivery) => delivery.event.type).join(' → ');
}

describe('every delivery order of a journey', () => {
  it.each(loadJourneys().map((journey) => [journey.id, journey] as const))('%s ends in the same ledger', async (_id, journey) => {
    const listedDeliveries = journey.events.map(deliveryOf);
    const distinct = [...new Set(journey.events)].map(deliveryOf);
    const listed = await applyOrdering(journey, listedDeliveries);
    expect(listed.state).toMatchObject(journey.expected_final_state);

    // Permutations of the listed deliveries keep a journey's own duplicate deliveries in play.
    const random = seededRandom(journey.id.length * 7919 + distinct.length);
    const orderings =
      distinct.length <= MAX_EVENTS_FOR_ALL_PERMUTATIONS
        ? permutations(listedDeliveries)
        : Array.from({ length: RANDOM_ORDERINGS }, () => randomOrdering(distinct, random));

    for (const ordering of orderings) {
      const result = await applyOrdering(journey, ordering);
      const label = describeOrdering(ordering);
      expect(result.snapshot, label).toEqual(listed.snapshot);
      expect(result.state, label).toMatchObject(journey.expected_final_state);
      expect(result.markers, label).toBe(distinct.length);
      // Fulfilment is one message per paid order whatever order its payment events arrive in.
      expect(result.orderPaidMessages, label).toBe(listed.orderPaidMessages);
    }
  });
});
