import { Queue } from 'bullmq';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/store/redis/ingest.js';
import { eventIdFromJobId, jobIdFor, QUEUE_NAME, storeKeys } from '../../src/store/redis/keys.js';
import type { RedisStore } from '../../src/store/redis/index.js';
import { sampleDecision, sampleEvent } from '../contract/samples.js';
import { ManualClock } from '../support/manual-clock.js';
import { assertRedisReachable, deleteKeys, openTestStore, uniquePrefix, type TestStoreOptions } from './redis-support.js';

const LEASE_MS = 30_000;
const GRACE_MS = 10_000;
const RETENTION_DAYS = 7;
const RETENTION_MS = RETENTION_DAYS * 24 * 60 * 60 * 1000;

const opened: { store: RedisStore; prefix: string }[] = [];

async function open(options: TestStoreOptions = {}): Promise<{ store: RedisStore; prefix: string; clock: ManualClock }> {
  const clock = new ManualClock();
  const result = await openTestStore({ clock: clock.now, enqueueGraceMs: GRACE_MS, retentionDays: RETENTION_DAYS, ...options });
  opened.push(result);
  return { ...result, clock };
}

beforeAll(async () => {
  await assertRedisReachable();
});

afterEach(async () => {
  const prefixes = new Set(opened.map((entry) => entry.prefix));
  await Promise.all(opened.splice(0).map((entry) => entry.store.close()));
  for (const prefix of prefixes) await deleteKeys(prefix);
});

describe('redis ingest from two instances', () => {
  it('accepts one of two simultaneous ingests', async () => {
    const prefix = uniquePrefix('twins');
    const first = await open({ keyPrefix: prefix });
    const second = await open({ keyPrefix: prefix });
    const events = Array.from({ length: 10 }, () => sampleEvent());

    for (const event of events) {
      const outcomes = await Promise.all([first.store.events.ingest(event), second.store.events.ingest(event)]);
      expect(outcomes.filter((outcome) => outcome.kind === 'accepted')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.kind === 'duplicate')).toHaveLength(1);
    }

    const claimed: string[] = [];
    for (let job = await first.store.queue.claim({ leaseMs: LEASE_MS }); job !== null; job = await second.store.queue.claim({ leaseMs: LEASE_MS })) {
      claimed.push(job.id);
    }
    expect(claimed.sort()).toEqual(events.map((event) => event.id).sort());
  });
});

describe('when a process dies between recording and enqueueing', () => {
  async function recordOnly(): Promise<{ store: RedisStore; clock: ManualClock; eventId: string }> {
    const { store, prefix, clock } = await open();
    const event = sampleEvent();
    const now = clock.now();
    await recordEvent({ redis: store.redis, keys: storeKeys(prefix), retentionMs: RETENTION_MS }, event, now, now + GRACE_MS);
    return { store, clock, eventId: event.id };
  }

  it('the record exists without a job', async () => {
    const { store, eventId } = await recordOnly();

    expect((await store.events.get(eventId))?.status).toBe('received');
    expect(await store.queue.claim({ leaseMs: LEASE_MS })).toBeNull();
  });

  it('sweeper leaves it alone within the grace period', async () => {
    const { store, clock } = await recordOnly();
    clock.advance(GRACE_MS - 1);

    expect(await store.sweepUnqueued()).toBe(0);
    expect(await store.queue.claim({ leaseMs: LEASE_MS })).toBeNull();
  });

  it('sweeper enqueues it after the grace period', async () => {
    const { store, clock, eventId } = await recordOnly();
    clock.advance(GRACE_MS + 1);

    expect(await store.sweepUnqueued()).toBe(1);
    expect(await store.sweepUnqueued()).toBe(0);
    expect((await store.queue.claim({ leaseMs: LEASE_MS }))?.id).toBe(eventId);
    expect(await store.queue.claim({ leaseMs: LEASE_MS })).toBeNull();
  });

  it('redelivery after the grace period is accepted and enqueued', async () => {
    const { store, clock, eventId } = await recordOnly();
    clock.advance(GRACE_MS + 1);
    const record = await store.events.get(eventId);
    if (record === null) throw new Error('The record written before the simulated crash is missing.');

    const outcome = await store.events.ingest(record);

    expect(outcome).toEqual({ kind: 'accepted' });
    expect((await store.queue.claim({ leaseMs: LEASE_MS }))?.id).toBe(eventId);
    expect(await store.sweepUnqueued()).toBe(0);
  });

  it('redelivery within the grace period still enqueues before answering', async () => {
    const { store, eventId } = await recordOnly();
    const record = await store.events.get(eventId);
    if (record === null) throw new Error('The record written before the simulated crash is missing.');

    const outcome = await store.events.ingest(record);

    expect(outcome).toEqual({ kind: 'duplicate', status: 'received' });
    expect((await store.queue.claim({ leaseMs: LEASE_MS }))?.id).toBe(eventId);
  });
});

describe('when an unfinished event is delivered again', () => {
  it('a lost job is added back', async () => {
    const { store, prefix } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);
    const bullQueue = new Queue(QUEUE_NAME, { connection: store.redis, prefix });
    try {
      await bullQueue.remove(jobIdFor(event.id));
      expect(await bullQueue.getJob(jobIdFor(event.id))).toBeUndefined();

      const outcome = await store.events.ingest(event);

      expect(outcome).toEqual({ kind: 'duplicate', status: 'received' });
      expect((await store.queue.claim({ leaseMs: LEASE_MS }))?.id).toBe(event.id);
    } finally {
      await bullQueue.close();
    }
  });

  it('a processed event gets no new job', async () => {
    const { store } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);
    const job = await store.queue.claim({ leaseMs: LEASE_MS });
    if (job === null) throw new Error('Expected the ingested event to be claimable.');
    await store.queue.complete(job, sampleDecision());

    expect(await store.events.ingest(event)).toEqual({ kind: 'duplicate', status: 'processed' });
    expect(await store.queue.claim({ leaseMs: LEASE_MS })).toBeNull();
  });

  it('a processed event drops a leftover unqueued entry', async () => {
    const { store, prefix, clock } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);
    const job = await store.queue.claim({ leaseMs: LEASE_MS });
    if (job === null) throw new Error('Expected the ingested event to be claimable.');
    await store.queue.complete(job, sampleDecision());
    // As if the confirmation after the add had failed: the entry outlives its deadline.
    const unqueued = storeKeys(prefix).unqueued;
    await store.redis.zadd(unqueued, clock.now() - 1, event.id);

    expect(await store.events.ingest(event)).toEqual({ kind: 'duplicate', status: 'processed' });

    expect(await store.redis.zscore(unqueued, event.id)).toBeNull();
    expect(await store.queue.claim({ leaseMs: LEASE_MS })).toBeNull();
  });
});

describe('redis retention', () => {
  it('sets the retention TTL on a new record', async () => {
    const { store, prefix } = await open();
    const event = sampleEvent();

    await store.events.ingest(event);

    const ttl = await store.redis.pttl(storeKeys(prefix).event(event.id));
    expect(ttl).toBeGreaterThan(RETENTION_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
  });

  it('restarts the TTL on a transition', async () => {
    const { store, prefix } = await open();
    const event = sampleEvent();
    await store.events.ingest(event);
    const key = storeKeys(prefix).event(event.id);
    await store.redis.pexpire(key, 60_000);

    await store.queue.claim({ leaseMs: LEASE_MS });

    expect(await store.redis.pttl(key)).toBeGreaterThan(RETENTION_MS - 60_000);
  });

  it('removes index entries of expired records', async () => {
    const { store, prefix, clock } = await open();
    const expired = sampleEvent({ type: 'invoice.paid' });
    const kept = sampleEvent({ type: 'invoice.paid' });
    await store.events.ingest(expired);
    await store.events.ingest(kept);
    // Redis deleting the hash at the end of its TTL looks the same to the indexes as a DEL.
    await store.redis.del(storeKeys(prefix).event(expired.id));
    await store.redis.pexpire(storeKeys(prefix).event(kept.id), RETENTION_MS * 2);
    clock.advance(RETENTION_MS + 1);

    expect(await store.expireIndexes()).toBe(1);

    expect((await store.events.list({ limit: 10 })).map((record) => record.id)).toEqual([kept.id]);
    expect((await store.events.list({ type: 'invoice.paid', limit: 10 })).map((record) => record.id)).toEqual([kept.id]);
    expect((await store.events.countByStatus()).received).toBe(1);
    expect(await store.expireIndexes()).toBe(0);
  });
});

describe('redis job ids', () => {
  const oddIds = ['evt_1:2:3', '1234567890', 'evt with spaces/and/slashes', 'évt_ünïcödé_☕', ':', `evt_${'x'.repeat(251)}`];

  it.each(oddIds)('processes the event id %s', async (eventId) => {
    const { store } = await open();
    await store.events.ingest(sampleEvent({ id: eventId }));

    const job = await store.queue.claim({ leaseMs: LEASE_MS });
    expect(job?.id).toBe(eventId);
    if (job === null) return;
    await store.queue.complete(job, sampleDecision());

    expect((await store.events.get(eventId))?.status).toBe('processed');
  });

  it.each(oddIds)('derives a valid BullMQ id from %s', (eventId) => {
    const jobId = jobIdFor(eventId);

    expect(jobId).toMatch(/^evt-[A-Za-z0-9_-]+$/);
    expect(eventIdFromJobId(jobId)).toBe(eventId);
  });
});

describe('redis job priorities', () => {
  it('claims an urgent event before older normal ones', async () => {
    const { store } = await open({ priorityForType: (type) => (type.startsWith('charge.dispute.') ? 'urgent' : 'normal') });
    const paid = sampleEvent({ type: 'invoice.paid' });
    const charge = sampleEvent({ type: 'charge.succeeded' });
    const dispute = sampleEvent({ type: 'charge.dispute.created' });
    for (const event of [paid, charge, dispute]) await store.events.ingest(event);

    const order: (string | undefined)[] = [];
    for (let index = 0; index < 3; index++) order.push((await store.queue.claim({ leaseMs: LEASE_MS }))?.id);

    expect(order).toEqual([dispute.id, paid.id, charge.id]);
  });
});
