import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { checkLeaseTimes, checkRedisSafety, type RedisStore, type SafetyCheck } from '../../src/store/redis/index.js';
import type { IngestOutcome } from '../../src/store/ports.js';
import { sampleEvent } from '../contract/samples.js';
import { openTestStore, startOwnRedisServer, type OwnRedisServer } from './redis-support.js';

/** Far longer than the 1 s command timeout: an ingest still pending after this is hanging. */
const HANG_LIMIT_MS = 5000;

/** Settles the ingest, or reports it as still pending after HANG_LIMIT_MS. */
async function ingestOrHang(store: RedisStore): Promise<IngestOutcome | Error | 'still pending'> {
  const ingest = store.events.ingest(sampleEvent()).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  return Promise.race([ingest, sleep(HANG_LIMIT_MS).then(() => 'still pending' as const)]);
}

function checkNamed(checks: readonly SafetyCheck[], name: string): SafetyCheck | undefined {
  return checks.find((check) => check.name === name);
}

describe('when Redis goes away', () => {
  let server: OwnRedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startOwnRedisServer();
  });

  afterEach(async () => {
    server.resume();
    await store.close();
    await server.start();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('ingest rejects with StoreUnavailableError, then recovers', async () => {
    ({ store } = await openTestStore({ url: server.url }));
    expect(await store.events.ingest(sampleEvent())).toEqual({ kind: 'accepted' });

    await server.stop();
    const whileDown = await ingestOrHang(store);
    expect(whileDown).toBeInstanceOf(StoreUnavailableError);
    await expect(store.events.ping()).rejects.toBeInstanceOf(StoreUnavailableError);

    await server.start();
    let recovered: IngestOutcome | Error | 'still pending' = 'still pending';
    // The client reconnects in the background, retrying every 100 ms to 1 s.
    for (let attempt = 0; attempt < 40 && !(typeof recovered === 'object' && 'kind' in recovered); attempt++) {
      recovered = await ingestOrHang(store);
      if (recovered instanceof Error) await sleep(100);
    }
    expect(recovered).toEqual({ kind: 'accepted' });
  });

  it('ingest rejects instead of hanging when Redis stops answering', async () => {
    ({ store } = await openTestStore({ url: server.url }));
    await store.events.ping();

    server.pause();
    const outcome = await ingestOrHang(store);
    server.resume();

    expect(outcome).toBeInstanceOf(StoreUnavailableError);
  });

  it('opening the store rejects with StoreUnavailableError', async () => {
    await server.stop();

    const opening = openTestStore({ url: server.url });

    await expect(opening).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(opening).rejects.toThrow(`Connecting to Redis at 127.0.0.1:${server.port} failed: connection refused.`);
    // Nothing to close: give afterEach a store that is already closed.
    await server.start();
    ({ store } = await openTestStore({ url: server.url }));
  });
});

describe('redis safety checks', () => {
  let server: OwnRedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startOwnRedisServer(['--maxmemory-policy', 'allkeys-lru']);
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.dispose();
  });

  it('report a server without persistence and with eviction', async () => {
    const checks = await checkRedisSafety(redis);

    expect(checkNamed(checks, 'persistence')).toMatchObject({ ok: false, severity: 'danger' });
    expect(checkNamed(checks, 'eviction-policy')).toMatchObject({ ok: false, severity: 'danger' });
    expect(checkNamed(checks, 'eviction-policy')?.detail).toContain('allkeys-lru');
  });

  it('warn about RDB snapshots without AOF', async () => {
    await redis.config('SET', 'save', '3600 1');
    try {
      const persistence = checkNamed(await checkRedisSafety(redis), 'persistence');

      expect(persistence).toMatchObject({ ok: false, severity: 'warning' });
      expect(persistence?.detail).toContain('3600 1');
    } finally {
      await redis.config('SET', 'save', '');
    }
  });

  it('pass on a server with AOF and noeviction', async () => {
    await redis.config('SET', 'appendonly', 'yes');
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    try {
      const checks = await checkRedisSafety(redis);

      expect(checks.map((check) => [check.name, check.ok])).toEqual([
        ['persistence', true],
        ['eviction-policy', true],
      ]);
    } finally {
      await redis.config('SET', 'appendonly', 'no');
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });
});

describe('lease time checks', () => {
  it('pass with the default settings', () => {
    const checks = checkLeaseTimes({ leaseMs: 30_000, lockTtlMs: 30_000, handlerTimeoutMs: 10_000 });

    expect(checks.every((check) => check.ok)).toBe(true);
  });

  it('flag a lease shorter than the handler timeout', () => {
    const checks = checkLeaseTimes({ leaseMs: 5000, lockTtlMs: 30_000, handlerTimeoutMs: 10_000 });

    expect(checkNamed(checks, 'job-lease')).toMatchObject({ ok: false, severity: 'warning' });
    expect(checkNamed(checks, 'object-lock-ttl')?.ok).toBe(true);
  });

  it('flag a lock TTL equal to the handler timeout', () => {
    const checks = checkLeaseTimes({ leaseMs: 30_000, lockTtlMs: 10_000, handlerTimeoutMs: 10_000 });

    expect(checkNamed(checks, 'object-lock-ttl')).toMatchObject({ ok: false, severity: 'warning' });
    expect(checkNamed(checks, 'job-lease')?.ok).toBe(true);
  });
});
