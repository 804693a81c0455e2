import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedJob } from '../../src/store/ports.js';
import type { RedisStore } from '../../src/store/redis/index.js';
import { recordEvent } from '../../src/store/redis/ingest.js';
import { jobIdFor, storeKeys } from '../../src/store/redis/keys.js';
import { transitionKeys } from '../../src/store/redis/scripts/codes.js';
import { completeScript } from '../../src/store/redis/scripts/finish.js';
import { sampleDecision, sampleEvent } from '../contract/samples.js';
import { ManualClock } from '../support/manual-clock.js';
import { assertRedisReachable, deleteKeys, listKeys, openTestStore, uniquePrefix, type TestStoreOptions } from './redis-support.js';

/** Short real-time lease and stalled-check interval, so lease expiry happens within the test. */
const SHORT_LEASE_MS = 150;
const STALLED_INTERVAL_MS = 20;
/** Long enough for a short lease to expire and two stalled checks to run after it. */
const RECOVERY_WAIT_MS = SHORT_LEASE_MS + 10 * STALLED_INTERVAL_MS;
const LONG_LEASE_MS = 30_000;

const opened: { store: RedisStore; prefix: string }[] = [];

async function open(options: TestStoreOptions = {}): Promise<{ store: RedisStore; prefix: string }> {
  const result = await openTestStore({ stalledIntervalMs: STALLED_INTERVAL_MS, ...options });
  opened.push(result);
  return result;
}

async function claimOrFail(store: RedisStore, leaseMs: number): Promise<ClaimedJob> {
  const job = await store.queue.claim({ leaseMs });
  if (job === null) throw new Error('Expected a due job to claim, but claim resolved null.');
  return job;
}

beforeAll(async () => {
  await assertRedisReachable();
});

afterEach(async () => {
  const prefixes = new Set(opened.map((entry) => entry.prefix));
  await Promise.all(opened.splice(0).map((entry) => entry.store.close()));
  for (const prefix of prefixes) await deleteKeys(prefix);
});

describe('redis queue memory', () => {
  it('removes finished jobs from Redis', async () => {
    const { store, prefix } = await open();
    for (let index = 0; index < 30; index++) await store.events.ingest(sampleEvent());

    for (let index = 0; index < 30; index++) {
      const job = await claimOrFail(store, LONG_LEASE_MS);
      if (index % 3 === 0) await store.queue.deadLetter(job, { error: 'Error: poison', decision: null });
      else await store.queue.complete(job, sampleDecision());
    }

    expect(await listKeys(store.redis, prefix, 'jobs:evt-*')).toEqual([]);
    expect(await store.redis.zcard(`${prefix}:jobs:completed`)).toBe(0);
    expect(await store.redis.zcard(`${prefix}:jobs:failed`)).toBe(0);
    expect(await store.events.countByStatus()).toMatchObject({ processed: 20, dead: 10 });
  });

  it('keeps the job of a pending retry', async () => {
    const { store, prefix } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);

    await store.queue.retry(await claimOrFail(store, LONG_LEASE_MS), { error: 'Error: timeout', delayMs: 60_000, decision: null });

    expect(await listKeys(store.redis, prefix, `jobs:${jobIdFor(event.id)}`)).toHaveLength(1);
    expect(await store.redis.zcard(`${prefix}:jobs:delayed`)).toBe(1);
  });
});

describe('when a worker dies holding a job', () => {
  it('another process claims it after the lease', async () => {
    const prefix = uniquePrefix('crash');
    const first = await open({ keyPrefix: prefix });
    const second = await open({ keyPrefix: prefix });
    const event = sampleEvent();
    await first.store.events.ingest(event);
    const lost = await claimOrFail(first.store, SHORT_LEASE_MS);
    await first.store.close();

    // The first claim starts the second process's stalled checker; the job returns within its runs.
    const early = await second.store.queue.claim({ leaseMs: LONG_LEASE_MS });
    await sleep(RECOVERY_WAIT_MS);
    const job = early ?? (await claimOrFail(second.store, LONG_LEASE_MS));

    expect(job.id).toBe(event.id);
    expect(job.attempt).toBe(2);
    expect(job.leaseToken).not.toBe(lost.leaseToken);
    await second.store.queue.complete(job, sampleDecision());
    expect((await second.store.events.get(event.id))?.status).toBe('processed');
  });

  it('a job whose event already finished is dropped', async () => {
    const { store, prefix } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);
    const job = await claimOrFail(store, SHORT_LEASE_MS);
    // The worker recorded the outcome and died before moving the BullMQ job.
    const keys = storeKeys(prefix);
    await completeScript.run(store.redis, transitionKeys({ event: keys.event(event.id), statuses: keys.statuses, expiry: keys.expiry }), [
      event.id,
      Date.now(),
      job.leaseToken,
      JSON.stringify(sampleDecision()),
      7 * 24 * 60 * 60 * 1000,
    ]);
    const before = await store.events.get(event.id);

    await sleep(RECOVERY_WAIT_MS);
    expect(await store.queue.claim({ leaseMs: LONG_LEASE_MS })).toBeNull();

    expect(await store.events.get(event.id)).toEqual(before);
    expect(await listKeys(store.redis, prefix, `jobs:${jobIdFor(event.id)}`)).toEqual([]);
  });

  it('an event whose lease keeps expiring is dead-lettered', async () => {
    const { store } = await open({ maxStalledCount: 1 });
    const event = sampleEvent();
    await store.events.ingest(event);

    expect((await claimOrFail(store, SHORT_LEASE_MS)).attempt).toBe(1);
    await sleep(RECOVERY_WAIT_MS);
    expect((await claimOrFail(store, SHORT_LEASE_MS)).attempt).toBe(2);
    await sleep(RECOVERY_WAIT_MS);
    expect(await store.queue.claim({ leaseMs: SHORT_LEASE_MS })).toBeNull();

    const record = await store.events.get(event.id);
    expect(record?.status).toBe('dead');
    expect(record?.lastError).toContain('lease expired');
    expect((await store.queue.listDeadLetters(10)).map((letter) => letter.id)).toEqual([event.id]);
  });
});

describe('redis maintenance timer', () => {
  it('a worker process sweeps unqueued events', async () => {
    const clock = new ManualClock();
    const { store, prefix } = await open({ clock: clock.now, maintenanceIntervalMs: 20 });
    const event = sampleEvent();
    const now = clock.now();
    await recordEvent({ redis: store.redis, keys: storeKeys(prefix), retentionMs: 7 * 24 * 60 * 60 * 1000 }, event, now, now + 10_000);
    clock.advance(10_001);

    // The first claim starts the timer; the sweep runs at once, racing this claim, then every 20 ms.
    const early = await store.queue.claim({ leaseMs: LONG_LEASE_MS });
    await sleep(200);
    const job = early ?? (await store.queue.claim({ leaseMs: LONG_LEASE_MS }));

    expect(job?.id).toBe(event.id);
  });
});
