import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLedger } from '../../src/ledger/postgres.js';
import type { Kysely } from 'kysely';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { createSilentLogger } from '../../src/logger.js';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.js';
import { appliedOrder, deliverPlan, embeddedReference, planLoad, summarizeLedger, waitForProcessed } from './support/load.js';
import { createDataDirectory, processEnvironment, runCli, startCli, stopAll, TEST_SECRET, type CliProcess } from './support/processes.js';
import { createTestSchema, deleteRedisKeys, REDIS_URL, requireRedis, uniquePrefix, type TestSchema } from './support/services.js';

/**
 * Two `serve` and three `worker` processes on one Redis prefix and one PostgreSQL schema. The
 * size is DISTRIBUTED_TEST_EVENTS (default 1000, so CI stays quick); `npx tsx scripts/load-test.ts` runs
 * the full 5,000 and prints throughput.
 */
const EVENTS = Number(process.env['DISTRIBUTED_TEST_EVENTS'] ?? 1000);
const DUPLICATE_SHARE = 0.2;
const PROCESSING_TIMEOUT_MS = 120_000;

describe('two serve and three worker processes', () => {
  const processes: CliProcess[] = [];
  const dataDirectory = createDataDirectory();
  const keyPrefix = uniquePrefix('cluster');
  let schema: TestSchema;
  let store: RedisStore;
  let ledger: Kysely<LedgerDatabase>;
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    schema = await createTestSchema('cluster');
    env = processEnvironment({ redisUrl: REDIS_URL, databaseUrl: schema.url, keyPrefix }, dataDirectory.path);

    // As in production: migrate first, then start the processes.
    const migrated = await runCli(['migrate'], env);
    expect(migrated.output).toContain('applied 0001_ledger');
    expect(migrated.code).toBe(0);

    const started = await Promise.all([
      startCli(['serve'], env),
      startCli(['serve'], env),
      startCli(['worker'], env),
      startCli(['worker'], env),
      startCli(['worker', '--concurrency', '4'], env),
    ]);
    processes.push(...started);
    store = await openRedisStore({ url: REDIS_URL, keyPrefix, retentionDays: 7, logger: createSilentLogger() });
    ledger = createPostgresLedger({ url: schema.url, logger: createSilentLogger(), maxConnections: 2 });
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes);
    await store?.close();
    await ledger?.destroy();
    await deleteRedisKeys(keyPrefix);
    await schema?.drop();
    dataDirectory.remove();
  });

  it(`processes ${EVENTS} events once and matches the embedded ledger`, async () => {
    const plan = planLoad({ events: EVENTS, duplicateShare: DUPLICATE_SHARE, seed: 7 });
    expect(plan.simultaneous).toBeGreaterThan(0);
    expect(plan.redeliveries).toBeGreaterThan(0);
    const [first, second] = processes;
    const urls = [first, second].map((serve) => `http://127.0.0.1:${serve?.port ?? 0}/webhooks/stripe`) as [string, string];

    const report = await deliverPlan({ plan, urls, secret: TEST_SECRET, concurrency: 16 });
    expect(report.failures).toEqual([]);
    expect(report.requests).toBe(plan.deliveries.length + plan.simultaneous);

    const counts = await waitForProcessed(store.events, plan.distinctEventIds.size, PROCESSING_TIMEOUT_MS);
    expect(counts).toMatchObject({ processed: plan.distinctEventIds.size, received: 0, processing: 0, failed: 0, dead: 0 });

    const distributed = await summarizeLedger(ledger);
    expect(distributed.appliedMarkers).toBe(plan.distinctEventIds.size);
    expect(new Set(distributed.outbox).size).toBe(distributed.outbox.length);

    // Some outbox messages follow the order events were applied in (an access grant seen before a
    // revocation sends both), so the embedded run gets the events in the order the workers applied them.
    const embedded = await embeddedReference(await appliedOrder(ledger, plan.firstDeliveries));
    expect(distributed.snapshot).toEqual(embedded.snapshot);
    expect(distributed.outbox).toEqual(embedded.outbox);

    for (const cliProcess of processes) expect(cliProcess.child.exitCode, cliProcess.output()).toBeNull();
  }, 240_000);
});
