import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { createWorker } from '../../../src/service.js';
import { toInteger } from '../../../src/ledger/columns.js';
import { snapshotLedger, type LedgerSnapshot } from '../../../src/ledger/read.js';
import type { LedgerDatabase } from '../../../src/ledger/schema.js';
import { createSilentLogger } from '../../../src/logger.js';
import { deliverEvent } from '../../../src/samples/deliver.js';
import { loadJourneys } from '../../../src/samples/fixtures.js';
import { instantiateJourney } from '../../../src/samples/instantiate.js';
import type { EventStatus, EventStore } from '../../../src/store/ports.js';
import { openTestBackend } from '../../support/embedded-backend.js';
import { seededRandom, shuffled } from './journey-events.js';

/**
 * The load of the multi-process test and `scripts/load-test.ts`. It consists of copies of the
 * sample journeys with unique ids, each journey's events shuffled, and a share delivered twice
 * (some of those to both HTTP instances at once). The embedded backend's ledger for the same
 * input is the reference to compare with.
 */

/** Where one delivery goes: one HTTP instance, or both at the same time. */
export type Target = 0 | 1 | 'both';

export interface PlannedDelivery {
  readonly raw: string;
  readonly eventId: string;
  readonly target: Target;
}

export interface LoadPlan {
  readonly deliveries: readonly PlannedDelivery[];
  /** Every event's bytes in first-delivery order, for the embedded reference run. */
  readonly firstDeliveries: readonly string[];
  readonly distinctEventIds: ReadonlySet<string>;
  /** Deliveries that repeat an earlier one (to one instance later, or to both at once). */
  readonly redeliveries: number;
  readonly simultaneous: number;
}

/**
 * Plans at least `events` deliveries from whole journey copies. Copies are interleaved at random,
 * and each copy's events come in a shuffled order. Then `duplicateShare` of the deliveries are
 * repeated: half of those go to both instances at once, the other half to the other instance later.
 */
export function planLoad(options: { events: number; duplicateShare: number; seed: number; tagPrefix?: string }): LoadPlan {
  const random = seededRandom(options.seed);
  const journeys = loadJourneys();
  const copies: string[][] = [];
  let planned = 0;
  for (let index = 0; planned < options.events; index++) {
    const journey = journeys[index % journeys.length];
    if (journey === undefined) throw new Error('No sample journeys were found.');
    const copy = instantiateJourney(journey, `${options.tagPrefix ?? 'load'}${index}`);
    copies.push(shuffled(copy.events.map((event) => event.raw), random));
    planned += copy.events.length;
  }

  // Interleave the copies at random, keeping each copy's own (shuffled) order.
  const firstDeliveries: string[] = [];
  const open = copies.filter((copy) => copy.length > 0).map((copy) => [...copy]);
  while (open.length > 0) {
    const pick = Math.floor(random() * open.length);
    const copy = open[pick] as string[];
    firstDeliveries.push(copy.shift() as string);
    if (copy.length === 0) open.splice(pick, 1);
  }

  const deliveries: PlannedDelivery[] = firstDeliveries.map((raw) => ({ raw, eventId: eventIdOf(raw), target: random() < 0.5 ? 0 : 1 }));
  let redeliveries = 0;
  let simultaneous = 0;
  const duplicates = Math.round(firstDeliveries.length * options.duplicateShare);
  const chosen = shuffled(
    firstDeliveries.map((_, index) => index),
    random,
  ).slice(0, duplicates);
  // Later redeliveries are inserted from the highest index down, so earlier indexes stay valid.
  const later: { index: number; delivery: PlannedDelivery }[] = [];
  for (const [position, index] of chosen.entries()) {
    const original = deliveries[index] as PlannedDelivery;
    if (position % 2 === 0) {
      deliveries[index] = { ...original, target: 'both' };
      simultaneous++;
    } else {
      const at = index + 1 + Math.floor(random() * (deliveries.length - index));
      later.push({ index: at, delivery: { ...original, target: original.target === 0 ? 1 : 0 } });
      redeliveries++;
    }
  }
  later.sort((left, right) => right.index - left.index);
  for (const { index, delivery } of later) deliveries.splice(index, 0, delivery);

  return { deliveries, firstDeliveries, distinctEventIds: new Set(firstDeliveries.map(eventIdOf)), redeliveries, simultaneous };
}

export interface DeliveryReport {
  /** Client-side time of each POST, from request to response body, in milliseconds. */
  readonly latenciesMs: number[];
  readonly requests: number;
  readonly elapsedMs: number;
  /** Responses other than 200, with the event id and body, for failure messages. */
  readonly failures: { eventId: string; status: number; body: string }[];
}

/** Posts every planned delivery, `concurrency` at a time, signed with `secret`. */
export async function deliverPlan(options: { plan: LoadPlan; urls: readonly [string, string]; secret: string; concurrency: number }): Promise<DeliveryReport> {
  const { plan, urls, secret } = options;
  const latenciesMs: number[] = [];
  const failures: DeliveryReport['failures'] = [];
  const post = async (url: string, delivery: PlannedDelivery): Promise<void> => {
    const startedAt = performance.now();
    const result = await deliverEvent({ url, secret, delivery: { raw: delivery.raw, label: delivery.eventId } });
    latenciesMs.push(performance.now() - startedAt);
    if (result.status !== 200) failures.push({ eventId: delivery.eventId, status: result.status, body: result.body });
  };

  const startedAt = performance.now();
  let next = 0;
  const lanes = Array.from({ length: options.concurrency }, async () => {
    while (next < plan.deliveries.length) {
      const delivery = plan.deliveries[next] as PlannedDelivery;
      next++;
      if (delivery.target === 'both') await Promise.all([post(urls[0], delivery), post(urls[1], delivery)]);
      else await post(urls[delivery.target], delivery);
    }
  });
  await Promise.all(lanes);
  return { latenciesMs, requests: latenciesMs.length, elapsedMs: performance.now() - startedAt, failures };
}

/** Waits until `expected` events are processed; throws with the counts after `timeoutMs`. */
export async function waitForProcessed(events: EventStore, expected: number, timeoutMs: number): Promise<Record<EventStatus, number>> {
  const deadline = Date.now() + timeoutMs;
  let counts = await events.countByStatus();
  while (counts.processed < expected) {
    if (Date.now() > deadline) {
      throw new Error(`Only ${counts.processed} of ${expected} events were processed within ${timeoutMs} ms; counts by status: ${JSON.stringify(counts)}`);
    }
    await sleep(100);
    counts = await events.countByStatus();
  }
  return counts;
}

export interface LedgerSummary {
  readonly snapshot: LedgerSnapshot;
  readonly appliedMarkers: number;
  /** `topic dedupe_key` of every outbox message, sorted. */
  readonly outbox: string[];
}

/** Reads the ledger's business state, counts its applied markers and lists its outbox messages. */
export async function summarizeLedger(db: Kysely<LedgerDatabase>): Promise<LedgerSummary> {
  const markers = await db
    .selectFrom('ledger_applied_events')
    .select((select) => select.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  const outbox = await db.selectFrom('ledger_outbox').select(['topic', 'dedupe_key']).execute();
  return {
    snapshot: await snapshotLedger(db),
    appliedMarkers: toInteger(markers.count),
    outbox: outbox.map((row) => `${row.topic} ${row.dedupe_key}`).sort(),
  };
}

/** Ingests the same events into a fresh embedded backend, processes them all, and summarizes its ledger. */
export async function embeddedReference(firstDeliveries: readonly string[]): Promise<LedgerSummary> {
  const test = await openTestBackend();
  try {
    for (const raw of firstDeliveries) await test.ingest(raw);
    const worker = createWorker({ config: test.config, backend: test.backend, logger: createSilentLogger() });
    while (await worker.processNext()) {
      // Each call claims and processes one job; the loop ends when none is due.
    }
    const counts = await test.backend.events.countByStatus();
    if (counts.processed !== new Set(firstDeliveries.map(eventIdOf)).size) {
      throw new Error(`The embedded reference run did not process every event: ${JSON.stringify(counts)}`);
    }
    return await summarizeLedger(test.backend.ledger);
  } finally {
    await test.close();
  }
}

/** Returns the events' bytes in the order the workers applied them, read from the applied markers. */
export async function appliedOrder(ledger: Kysely<LedgerDatabase>, raws: readonly string[]): Promise<string[]> {
  const byId = new Map(raws.map((raw) => [eventIdOf(raw), raw]));
  const markers = await ledger.selectFrom('ledger_applied_events').select(['event_id']).orderBy('applied_at').orderBy('event_id').execute();
  return markers.map((marker) => {
    const raw = byId.get(marker.event_id);
    if (raw === undefined) throw new Error(`The ledger applied event ${marker.event_id}, which was never delivered.`);
    return raw;
  });
}

/** The `p`-th percentile (0–100) of `values`, by the nearest-rank method. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function eventIdOf(raw: string): string {
  const parsed = JSON.parse(raw) as { id?: unknown };
  if (typeof parsed.id !== 'string') throw new Error('A sample event has no id.');
  return parsed.id;
}
