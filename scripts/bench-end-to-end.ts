import { setTimeout as sleep } from 'node:timers/promises';
import { openEmbeddedBackend } from '../src/backend/embedded.js';
import { loadConfig } from '../src/config/config.js';
import { createSilentLogger } from '../src/logger.js';
import { deliverAll, type Delivery } from '../src/samples/deliver.js';
import { loadJourneys } from '../src/samples/fixtures.js';
import { instantiateJourney } from '../src/samples/instantiate.js';
import type { EventStatus, EventStore } from '../src/store/ports.js';
import { BenchError } from './bench-errors.js';

/** How often the event store is read while waiting for the worker. */
const POLL_INTERVAL_MS = 20;

export interface EndToEndResult {
  /** Distinct events, each processed once. */
  readonly events: number;
  /** Requests sent. There are more than `events`, because one journey delivers an event twice. */
  readonly deliveries: number;
  /** From the first request to the last response. */
  readonly deliverSeconds: number;
  /** From the first request to the `processed_at` of the last event. */
  readonly totalSeconds: number;
  readonly eventsPerSecond: number;
  /**
   * Events that needed more than one attempt. A job given back because its object was locked gets
   * its attempt back, so this counts real retries only.
   */
  readonly eventsWithRetries: number;
}

/**
 * Builds the deliveries of copies of every sample journey, each copy with ids of its own, until
 * there are at least `minimumEvents` distinct events. Each copy's events are sent in the journey's
 * order, but with several requests in flight they arrive partly out of order, as from Stripe.
 */
export function planJourneyDeliveries(minimumEvents: number): { deliveries: Delivery[]; eventIds: Set<string> } {
  const journeys = loadJourneys();
  const deliveries: Delivery[] = [];
  const eventIds = new Set<string>();
  for (let round = 0; eventIds.size < minimumEvents; round++) {
    for (const [index, journey] of journeys.entries()) {
      const copy = instantiateJourney(journey, `bench${round}j${index}`);
      for (const event of copy.events) {
        deliveries.push({ raw: event.raw, label: `${journey.id}/${event.file}` });
        eventIds.add((JSON.parse(event.raw) as { id: string }).id);
      }
    }
  }
  return { deliveries, eventIds };
}

/**
 * Delivers the sample journeys to a running `start` service and measures events per second from
 * the first request until the worker has processed the last event. Progress is read from the
 * service's SQLite file through the project's own embedded backend, which reads beside the service
 * in WAL mode. Throws BenchError when a delivery fails, an event is dead-lettered, or the worker
 * has not finished within `timeoutMs`.
 */
export async function measureEndToEnd(options: {
  readonly url: string;
  readonly dataDir: string;
  readonly secret: string;
  readonly minimumEvents: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}): Promise<EndToEndResult> {
  const { deliveries, eventIds } = planJourneyDeliveries(options.minimumEvents);
  const config = loadConfig({ DATA_DIR: options.dataDir, LOG_LEVEL: 'silent' });
  const backend = await openEmbeddedBackend({ config, logger: createSilentLogger() });
  try {
    const startedAtEpochMs = Date.now();
    const results = await deliverAll({ url: options.url, secret: options.secret, deliveries, concurrency: options.concurrency });
    const deliverSeconds = (Date.now() - startedAtEpochMs) / 1000;
    const failed = results.filter((result) => result.status !== 200);
    if (failed.length > 0) {
      const first = failed[0];
      throw new BenchError(`${failed.length} of ${results.length} deliveries failed; the first, ${first?.label}, got ${first?.status}: ${first?.body.slice(0, 300)}`);
    }

    await waitUntilSettled(backend.events, eventIds.size, startedAtEpochMs + options.timeoutMs);

    const records = await backend.events.list({ limit: eventIds.size + 1 });
    const dead = records.filter((record) => record.status === 'dead');
    if (dead.length > 0) {
      throw new BenchError(`${dead.length} events were dead-lettered, the first ${dead[0]?.id} with: ${dead[0]?.lastError ?? 'no error recorded'}`);
    }
    const lastProcessedAt = Math.max(...records.map((record) => record.processedAt?.getTime() ?? 0));
    const totalSeconds = (lastProcessedAt - startedAtEpochMs) / 1000;
    return {
      events: eventIds.size,
      deliveries: deliveries.length,
      deliverSeconds,
      totalSeconds,
      eventsPerSecond: eventIds.size / totalSeconds,
      eventsWithRetries: records.filter((record) => record.attempts > 1).length,
    };
  } finally {
    await backend.close();
  }
}

/** Polls until every event is `processed` or `dead`; throws BenchError with the counts at `deadlineEpochMs`. */
async function waitUntilSettled(events: EventStore, expected: number, deadlineEpochMs: number): Promise<void> {
  for (;;) {
    const counts = await events.countByStatus();
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (total !== expected) {
      throw new BenchError(`The event store holds ${total} events, expected ${expected}; was the data directory shared with another run?`);
    }
    if (counts.processed + counts.dead === expected) return;
    if (Date.now() > deadlineEpochMs) {
      throw new BenchError(`The worker did not process every event in time; events by status: ${formatCounts(counts)}.`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

function formatCounts(counts: Record<EventStatus, number>): string {
  return Object.entries(counts)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
}
