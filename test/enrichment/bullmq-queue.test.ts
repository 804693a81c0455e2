import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderBreakers } from '../../src/enrichment/breaker.js';
import { findEnrichment } from '../../src/enrichment/ledger-store.js';
import { createManusProvider } from '../../src/enrichment/providers/manus.js';
import { BullMqEnrichmentQueue, ENRICHMENT_QUEUE_NAME } from '../../src/enrichment/queue/bullmq-queue.js';
import { ledgerEnrichmentResults } from '../../src/enrichment/results.js';
import { EnrichmentRunner } from '../../src/enrichment/runner.js';
import { createSilentLogger } from '../../src/logger.js';
import { deleteRedisKeys, openSqliteLedger, requireRedis, type SqliteLedger } from './support/databases.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS } from './support/harness.js';
import { MockProviderServer } from './support/mock-server.js';
import { MANUS_ENDLESS_TASK, VALID_ADVICE, manusHandler, manusStoppedWith } from './support/provider-replies.js';
import { enrichmentQueueContract, request } from './support/queue-contract.js';

const logger = createSilentLogger();
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
// Own prefix per test file run; each queue below adds a number, so tests never share jobs.
const PREFIX = `test-enrichment-${process.pid}-${Date.now()}`;
let queueNumber = 0;

function openQueue(): BullMqEnrichmentQueue {
  queueNumber += 1;
  return new BullMqEnrichmentQueue({ connection, prefix: `${PREFIX}-${queueNumber}`, lockDurationMs: 30_000, logger });
}

beforeAll(async () => {
  await requireRedis();
});
afterAll(async () => {
  await deleteRedisKeys(PREFIX);
});

enrichmentQueueContract('BullMQ', () => Promise.resolve(openQueue()));

describe('BullMQ enrichment queue', () => {
  it('adds low-priority jobs that are removed on completion', async () => {
    const queue = openQueue();
    const inspector = new Queue(ENRICHMENT_QUEUE_NAME, { connection, prefix: `${PREFIX}-${queueNumber}` });
    try {
      await queue.enqueue(request('evt_1BullMqOptions0001'));
      const added = await inspector.getJob('evt_1BullMqOptions0001.dispute_summary');
      expect(added?.opts.priority).toBe(1000);
      expect(added?.opts.removeOnComplete).toBe(true);

      const job = await queue.claim({ leaseMs: 30_000 });
      if (job === null) throw new Error('expected the job to be due');
      await queue.complete(job);

      expect(await inspector.getJob('evt_1BullMqOptions0001.dispute_summary')).toBeUndefined();
    } finally {
      await inspector.close();
      await queue.close();
    }
  });
});

describe('enrichment runner on BullMQ with Manus', () => {
  let server: MockProviderServer;
  let database: SqliteLedger;

  beforeAll(async () => {
    server = await MockProviderServer.start(manusHandler(() => MANUS_ENDLESS_TASK));
    database = await openSqliteLedger('bullmq-runner');
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  function runnerOn(queue: BullMqEnrichmentQueue): EnrichmentRunner {
    const dispute = loadFixture('charge.dispute.created');
    return new EnrichmentRunner({
      queue,
      provider: createManusProvider({ apiKey: TEST_KEYS.manus, baseUrl: server.url, agentProfile: 'manus-1.6-lite', logger }),
      breakers: new ProviderBreakers({ timeoutMs: 2000, breakerFailures: 3, breakerResetMs: 60_000 }, logger),
      results: ledgerEnrichmentResults(database.ledger),
      loadEvent: () => ({ type: 'charge.dispute.created', payload: dispute }),
      logger,
      callTimeoutMs: 2000,
      pendingTask: { pollIntervalMs: 60_000, timeoutMs: 600_000 },
      concurrency: 1,
      idlePollMs: 10,
    });
  }

  it('does not hold a slot while a task runs', async () => {
    server.requests.length = 0;
    server.respondWith(manusHandler(() => MANUS_ENDLESS_TASK));
    const queue = openQueue();
    const runner = runnerOn(queue);
    await queue.enqueue(request('evt_1BullMqManus0001'));
    await queue.enqueue(request('evt_1BullMqManus0002'));

    runner.start();
    try {
      // One slot, two tasks: the second task starts while the first one is still running.
      await vi.waitFor(() => expect(server.requestsTo('/v2/task.create')).toHaveLength(2));
    } finally {
      await runner.stop();
    }

    expect(server.requestsTo('/v2/task.detail')).toHaveLength(0);
    expect(await queue.count()).toBe(2);
    expect(await queue.claim({ leaseMs: 1000 })).toBeNull();
    await queue.close();
  });

  it('polls the task when its wait is over and records the advice', async () => {
    server.requests.length = 0;
    server.respondWith(manusHandler(() => manusStoppedWith(VALID_ADVICE.dispute_summary)));
    const queue = openQueue();
    const runner = runnerOn(queue);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await queue.enqueue(request('evt_1BullMqManus0003'));
      expect(await runner.processNext()).toBe(true);
      expect(await runner.processNext()).toBe(false);

      vi.setSystemTime(Date.now() + 60_000);
      expect(await runner.processNext()).toBe(true);
      vi.setSystemTime(Date.now() + 60_000);
      expect(await runner.processNext()).toBe(true);
    } finally {
      vi.useRealTimers();
      await queue.close();
    }

    expect(server.requests.map((sent) => sent.path)).toEqual(['/v2/task.create', '/v2/task.detail', '/v2/task.detail', '/v2/task.listMessages']);
    expect(await findEnrichment(database.ledger, 'evt_1BullMqManus0003', 'dispute_summary')).toMatchObject({ outcome: 'ok', provider: 'manus' });
  });
});
