import { afterEach, describe, expect, it } from 'vitest';
import { findEnrichments } from '../../src/enrichment/ledger-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { loadJourneys } from '../../src/samples/fixtures.js';
import { instantiateJourney } from '../../src/samples/instantiate.js';
import { createBackendEnrichment, createWorker } from '../../src/service.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';
import { MockProviderServer } from './support/mock-server.js';

/**
 * The worker and the enrichment runner share one process and one store, as in `start`. A provider
 * that hangs or fails must not delay, retry or dead-letter any business event.
 */
describe('enrichment while the provider is down', () => {
  let test: TestBackend | undefined;
  let mock: MockProviderServer | undefined;

  afterEach(async () => {
    await test?.close();
    await mock?.close();
  });

  it('keeps business processing unaffected and opens the breaker', async () => {
    mock = await MockProviderServer.start(() => ({ hang: true }));
    test = await openTestBackend({
      env: {
        AI_PROVIDER: 'openai',
        OPENAI_BASE_URL: `${mock.url}/v1`,
        OPENAI_API_KEY: 'sk-test-key',
        OPENAI_MODEL: 'test-model',
        AI_TIMEOUT_MS: '300',
        AI_BREAKER_FAILURES: '3',
        AI_BREAKER_RESET_MS: '600000',
      },
    });
    const { backend, config } = test;
    const logger = createSilentLogger();
    const enrichment = createBackendEnrichment({ config, backend, logger });
    const worker = createWorker({ config, backend, logger, enrichment });
    enrichment.runner?.start();

    const fraud = loadJourneys().find((journey) => journey.id === 'fraud_review_efw_dispute_open')!;
    const paid = loadJourneys().find((journey) => journey.id === 'checkout_card_paid')!;
    const copies = Array.from({ length: 5 }, (_, index) => [instantiateJourney(fraud, `Ai${index}`), instantiateJourney(paid, `Pay${index}`)]).flat();
    const eventIds: string[] = [];
    for (const copy of copies) {
      for (const event of copy.events) {
        await test.ingest(event.raw);
        eventIds.push((JSON.parse(event.raw) as { id: string }).id);
      }
    }

    // Every business event is applied on its first attempt while provider calls hang.
    while (await worker.processNext()) {
      // Each call processes one job.
    }
    for (const id of eventIds) {
      const record = await backend.events.get(id);
      expect(record?.status, id).toBe('processed');
      expect(record?.attempts, id).toBe(1);
    }
    expect(await backend.queue.listDeadLetters(10)).toEqual([]);
    const provider = mock;
    await waitFor(() => Promise.resolve(provider.requests.length > 0));

    // Three timeouts in a row open the breaker; later jobs are skipped without a request.
    await waitFor(async () => (await skippedCount(test!, eventIds)) > 0);
    expect(enrichment.breakerStates()).toEqual({ openai: 'open' });
    const requestsWhenOpen = mock.requests.length;
    // Three failed calls open it. The runner has two slots, so a fourth call may have started
    // before the third one failed; a call that timed out while still connecting never reaches the mock.
    expect(requestsWhenOpen).toBeLessThanOrEqual(4);
    await waitFor(async () => (await skippedCount(test!, eventIds)) >= 3);
    expect(mock.requests.length).toBe(requestsWhenOpen);

    await enrichment.close();
    const after = await backend.events.list({ limit: 100 });
    expect(after.filter((record) => record.status !== 'processed')).toEqual([]);
  });
});

async function skippedCount(test: TestBackend, eventIds: string[]): Promise<number> {
  let skipped = 0;
  for (const id of eventIds) {
    const records = await findEnrichments(test.backend.ledger, id);
    skipped += records.filter((record) => record.outcome === 'skipped_breaker_open').length;
  }
  return skipped;
}

/** Polls an async condition; fails after 10 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let round = 0; round < 200; round += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition was not met within 10 s');
}
