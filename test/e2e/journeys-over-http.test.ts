import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedBackend } from '../../src/backend/embedded.js';
import type { Backend } from '../../src/backend/types.js';
import { createSilentLogger } from '../../src/logger.js';
import { deliverAll, type Delivery } from '../../src/samples/deliver.js';
import { loadJourneys } from '../../src/samples/fixtures.js';
import { instantiateJourney, type JourneyCopy } from '../../src/samples/instantiate.js';
import { readJourneyState } from '../../src/samples/journey-state.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { testConfig, TEST_SECRET } from '../support/embedded-backend.js';

/**
 * Runs the service as a user would (`stripe-pipeline start` on the embedded store), sends every
 * sample journey through the real HTTP endpoint with real signatures, and checks the ledger.
 */
describe('journeys over HTTP', () => {
  let directory: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
    service = await startServiceProcess({
      command: 'start',
      env: { DATA_DIR: directory, PORT: '0', STRIPE_WEBHOOK_SECRET: TEST_SECRET, WORKER_POLL_INTERVAL_MS: '20' },
    });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  async function sendAndCheck(copies: JourneyCopy[], deliveryCount: (copy: JourneyCopy) => number): Promise<void> {
    const deliveries: Delivery[] = copies.flatMap((copy) =>
      copy.events.flatMap((event) => Array.from({ length: deliveryCount(copy) }, () => ({ raw: event.raw, label: `${copy.journey.id}/${event.file}` }))),
    );
    const results = await deliverAll({ url: service.url, secret: TEST_SECRET, deliveries, concurrency: 4 });
    expect(results.filter((result) => result.status !== 200)).toEqual([]);

    const backend = await openEmbeddedBackend({ config: testConfig(directory), logger: createSilentLogger() });
    try {
      const eventIds = [...new Set(results.map((result) => result.eventId))];
      await waitUntilSettled(backend, eventIds);

      for (const id of eventIds) {
        const record = await backend.events.get(id);
        expect(record?.status, `status of ${id}`).toBe('processed');
        expect(record?.attempts, `attempts of ${id}`).toBe(1);
      }
      for (const copy of copies) {
        const ids = copy.events.map((event) => (JSON.parse(event.raw) as { id: string }).id);
        const actual = await readJourneyState(backend.ledger, copy.expected, { eventIds: ids });
        expect(actual, copy.journey.id).toMatchObject(copy.expected);
      }
    } finally {
      await backend.close();
    }
  }

  it('brings every journey to its expected state', async () => {
    const copies = loadJourneys().map((journey, index) => instantiateJourney(journey, `Once${index}`));
    await sendAndCheck(copies, () => 1);
  });

  it('applies every event once when each is delivered twice', async () => {
    const copies = loadJourneys().map((journey, index) => instantiateJourney(journey, `Twice${index}`));
    await sendAndCheck(copies, () => 2);
  });

  it('records ignored event types as processed with ignore_event', async () => {
    const backend = await openEmbeddedBackend({ config: testConfig(directory), logger: createSilentLogger() });
    try {
      const ignored = await backend.events.list({ type: 'product.created', limit: 10 });
      expect(ignored.length).toBeGreaterThan(0);
      for (const record of ignored) {
        expect(record.status).toBe('processed');
        expect(record.decision?.action).toBe('ignore_event');
      }
    } finally {
      await backend.close();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await service.stop('SIGTERM')).toBe(0);
  });
});

/** Polls the event store until no event is still queued or running; fails after 20 s. */
async function waitUntilSettled(backend: Backend, eventIds: string[]): Promise<void> {
  for (let round = 0; round < 200; round += 1) {
    const records = await Promise.all(eventIds.map((id) => backend.events.get(id)));
    const pending = records.filter((record) => record === null || record.status === 'received' || record.status === 'processing');
    if (pending.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('events were still queued after 20 s');
}
