import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLedger } from '../../src/ledger/postgres.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { createSilentLogger } from '../../src/logger.js';
import { deliverEvent, type DeliveryResult } from '../../src/samples/deliver.js';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.js';
import { embeddedReference, planLoad, summarizeLedger, waitForProcessed } from './support/load.js';
import { createDataDirectory, processEnvironment, runCli, startCli, stopAll, TEST_SECRET, type CliProcess } from './support/processes.js';
import { createOwnRedis, createTestSchema, requireRedis, type OwnRedis, type TestSchema } from './support/services.js';

/**
 * Redis killed while deliveries arrive. The test runs its own redis-server (never the shared one)
 * with AOF fsynced on every write, so whatever Redis acknowledged survives the SIGKILL.
 */

const EVENTS = 300;
/** Deliveries sent before Redis is killed; the rest arrive while it is down. */
const KILL_AFTER = 100;
const REDELIVERY_TIMEOUT_MS = 30_000;

describe('redis stopped while events arrive', () => {
  const processes: CliProcess[] = [];
  const dataDirectory = createDataDirectory();
  const keyPrefix = 'outage';
  let redis: OwnRedis;
  let schema: TestSchema;
  let ledger: Kysely<LedgerDatabase>;
  let store: RedisStore | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    redis = await createOwnRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    await redis.start();
    schema = await createTestSchema('outage');
    // A short lease, so a job whose worker lost Redis mid-job returns soon after Redis does.
    env = processEnvironment({ redisUrl: redis.url, databaseUrl: schema.url, keyPrefix, extra: { JOB_LEASE_MS: '2000', LOCK_TTL_MS: '2000', HANDLER_TIMEOUT_MS: '1500' } }, dataDirectory.path);
    expect((await runCli(['migrate'], env)).code).toBe(0);
    ledger = createPostgresLedger({ url: schema.url, logger: createSilentLogger(), maxConnections: 2 });
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes);
    await store?.close();
    await ledger?.destroy();
    await redis?.remove();
    await schema?.drop();
    dataDirectory.remove();
  });

  it('answers 503, loses nothing acknowledged, and processes the redeliveries', async () => {
    const serve = await startCli(['serve'], env);
    processes.push(serve, await startCli(['worker'], env));
    const url = `http://127.0.0.1:${serve.port ?? 0}/webhooks/stripe`;
    const plan = planLoad({ events: EVENTS, duplicateShare: 0, seed: 11 });

    // Deliver in four lanes; the lane that takes delivery KILL_AFTER kills Redis first, so the
    // other lanes' requests are in flight when it goes.
    const results: DeliveryResult[] = [];
    let next = 0;
    const lanes = Array.from({ length: 4 }, async () => {
      while (next < plan.firstDeliveries.length) {
        const index = next;
        next++;
        if (index === KILL_AFTER) await redis.kill();
        const raw = plan.firstDeliveries[index] as string;
        results.push(await deliverEvent({ url, secret: TEST_SECRET, delivery: { raw, label: `delivery ${index}` } }));
      }
    });
    await Promise.all(lanes);

    const statuses = new Set(results.map((result) => result.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    const acknowledged = new Set(results.filter((result) => result.status === 200).map((result) => result.eventId));
    const rejected = results.filter((result) => result.status !== 200);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER - 4);
    expect(rejected.length).toBeGreaterThan(EVENTS - KILL_AFTER - 8);
    for (const result of rejected) expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'store_unavailable' } });

    await redis.start();
    store = await openRedisStore({ url: redis.url, keyPrefix, retentionDays: 7, logger: createSilentLogger() });
    const lost: string[] = [];
    for (const eventId of acknowledged) {
      if ((await store.events.get(eventId)) === null) lost.push(eventId);
    }
    expect(lost).toEqual([]);

    // Stripe retries every delivery that did not get a 2xx; so does the test, until Redis is back
    // for the serve process too.
    const rawById = new Map(plan.firstDeliveries.map((raw) => [(JSON.parse(raw) as { id: string }).id, raw]));
    let pending = [...new Set(rejected.map((result) => result.eventId))];
    const deadline = Date.now() + REDELIVERY_TIMEOUT_MS;
    while (pending.length > 0) {
      if (Date.now() > deadline) throw new Error(`${pending.length} redeliveries still failed after ${REDELIVERY_TIMEOUT_MS} ms.`);
      const retried = await Promise.all(pending.map((eventId) => deliverEvent({ url, secret: TEST_SECRET, delivery: { raw: rawById.get(eventId) ?? '', label: eventId } })));
      pending = retried.filter((result) => result.status !== 200).map((result) => result.eventId);
      if (pending.length > 0) await sleep(200);
    }

    const counts = await waitForProcessed(store.events, plan.distinctEventIds.size, 60_000);
    expect(counts).toMatchObject({ processed: plan.distinctEventIds.size, dead: 0 });
    const distributed = await summarizeLedger(ledger);
    expect(distributed.appliedMarkers).toBe(plan.distinctEventIds.size);
    const embedded = await embeddedReference(plan.firstDeliveries);
    expect(distributed.snapshot).toEqual(embedded.snapshot);
  }, 150_000);
});
