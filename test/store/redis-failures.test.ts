import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisUnavailableError, type RedisStore } from '../../src/store/redis/index.js';
import { sampleEvent } from '../contract/samples.js';
import { deleteKeys, openTestStore, startOwnRedisServer, type OwnRedisServer } from './redis-support.js';

/**
 * The messages a Redis failure produces. They name Redis, its address and the reason in plain
 * words, never the client's own text ("Stream isn't writeable…", "Connection is closed.").
 * Every test runs against a redis-server of its own, which it stops, pauses or fills.
 */

const CLIENT_TEXTS = ["Stream isn't writeable", 'enableOfflineQueue', 'Connection is closed', 'Command timed out', 'ECONNREFUSED'];

/** Returns the rejection of `promise`, failing the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<RedisUnavailableError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  if (!(error instanceof RedisUnavailableError)) throw new Error(`Expected a RedisUnavailableError, got ${String(error)}`);
  return error;
}

function expectNoClientText(text: string): void {
  for (const clientText of CLIENT_TEXTS) expect(text).not.toContain(clientText);
}

describe('redis failure messages', () => {
  let server: OwnRedisServer;
  let store: RedisStore | null = null;
  let prefix: string | null = null;

  beforeAll(async () => {
    server = await startOwnRedisServer();
  });

  afterEach(async () => {
    server.resume();
    await server.start();
    await store?.close();
    if (prefix !== null) await deleteKeys(prefix, server.url);
    store = null;
    prefix = null;
  });

  afterAll(async () => {
    await server.dispose();
  });

  async function openStore(): Promise<RedisStore> {
    const opened = await openTestStore({ url: server.url });
    store = opened.store;
    prefix = opened.prefix;
    return opened.store;
  }

  /**
   * Stops the server and waits until the store's client has been refused a reconnect. The killed
   * socket may first report a reset, which reads as "connection closed".
   */
  async function stopAndWaitForRefusal(opened: RedisStore): Promise<void> {
    const refused = new Promise<void>((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code !== 'ECONNREFUSED') return;
        opened.redis.off('error', onError);
        resolve();
      };
      opened.redis.on('error', onError);
    });
    await server.stop();
    // The client retries every 100 ms to 1 s, so a refusal comes well within this bound.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('The store client was not refused a reconnect within 5 s of stopping Redis.')), 5000);
    });
    try {
      await Promise.race([refused, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('opening names address, reason and fix', async () => {
    await server.stop();

    const error = await rejectionOf(openTestStore({ url: server.url }));

    expect(error.message).toBe(`Connecting to Redis at 127.0.0.1:${server.port} failed: connection refused. Start Redis, or correct the host and port in REDIS_URL.`);
    expect(error.target).toBe(`127.0.0.1:${server.port}`);
    expect(error.reason).toBe('connection refused');
    expect(error.code).toBe('store_unavailable');
  });

  it('read while down names the refusal', async () => {
    const opened = await openStore();
    await stopAndWaitForRefusal(opened);

    const error = await rejectionOf(opened.events.get('evt_unknown'));

    expect(error.message).toBe(`The request to read the event on Redis at 127.0.0.1:${server.port} did not complete: connection refused. Retry once Redis responds again.`);
    expectNoClientText(error.message);
  });

  it('readiness names address and refusal', async () => {
    const opened = await openStore();
    expect(await opened.checkReady()).toEqual({ ok: true });
    await stopAndWaitForRefusal(opened);

    const check = await opened.checkReady();

    expect(check).toEqual({ ok: false, detail: `Redis at 127.0.0.1:${server.port} did not answer PING: connection refused.` });
  });

  it('timeout reports an unfinished request', async () => {
    const opened = await openStore();
    await opened.events.ping();
    server.pause();

    const error = await rejectionOf(opened.events.ingest(sampleEvent()));
    const check = await opened.checkReady();
    server.resume();

    expect(error.reason).toBe('timed out');
    expect(error.message).toBe(
      `The request to record and enqueue the event on Redis at 127.0.0.1:${server.port} did not complete: timed out. Retry once Redis responds again.`,
    );
    expect(error.message).not.toMatch(/nothing|failed to record/);
    expect(check).toEqual({ ok: false, detail: `Redis at 127.0.0.1:${server.port} did not answer PING: timed out.` });
  });

  it('rejected command names its code', async () => {
    const opened = await openStore();
    const admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory', '1');
    try {
      const error = await rejectionOf(opened.events.ingest(sampleEvent()));

      expect(error.reason).toBe('command rejected (OOM)');
      expectNoClientText(error.message);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });
});
