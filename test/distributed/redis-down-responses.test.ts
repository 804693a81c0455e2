import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDistributedBackend, type DistributedBackend } from '../../src/backend/distributed.js';
import { loadConfig } from '../../src/config/config.js';
import { createSilentLogger } from '../../src/logger.js';
import { readSample } from '../../src/samples/fixtures.js';
import { startService, type RunningService } from '../../src/service.js';
import { createOwnRedis, createTestSchema, requireRedis, type OwnRedis, type TestSchema } from './support/services.js';

/**
 * The responses of `serve` while its Redis is down: `/readyz`, the admin API and the webhook endpoint.
 * The Redis is the test's own, stopped with SIGKILL; the shared one is never touched.
 */

const SECRET = 'whsec_redis_down_test_secret';
const ADMIN_TOKEN = 'admin-token-for-the-redis-down-test';
const CLIENT_TEXTS = ["Stream isn't writeable", 'enableOfflineQueue', 'Connection is closed', 'ECONNREFUSED', 'nothing was recorded'];

describe('serve while redis is down', () => {
  let redis: OwnRedis;
  let schema: TestSchema;
  let backend: DistributedBackend;
  let service: RunningService;
  let base: string;

  beforeAll(async () => {
    await requireRedis();
    redis = await createOwnRedis([]);
    await redis.start();
    schema = await createTestSchema('redis_down');
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      REDIS_URL: redis.url,
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: 'redis-down',
      STRIPE_WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN,
    });
    backend = await openDistributedBackend({ config, logger: createSilentLogger() });
    service = await startService({ config, backend, logger: createSilentLogger(), role: 'serve' });
    base = `http://127.0.0.1:${service.port ?? 0}`;

    await stopAndWaitForRefusal();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await redis?.remove();
    await schema?.drop();
  });

  /** Kills Redis and waits until the store's client has been refused a reconnect, bounded by 5 s. */
  async function stopAndWaitForRefusal(): Promise<void> {
    const client = backend.store.redis;
    let timer: NodeJS.Timeout | undefined;
    const refused = new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code !== 'ECONNREFUSED') return;
        client.off('error', onError);
        resolve();
      };
      client.on('error', onError);
      timer = setTimeout(() => reject(new Error('The store client was not refused a reconnect within 5 s of stopping Redis.')), 5000);
    });
    await redis.kill();
    try {
      await refused;
    } finally {
      clearTimeout(timer);
    }
  }

  function expectNoClientText(text: string): void {
    for (const clientText of CLIENT_TEXTS) expect(text).not.toContain(clientText);
  }

  it('readyz names redis and the refusal', async () => {
    const response = await fetch(`${base}/readyz`);
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      status: 'not_ready',
      checks: {
        redis: { ok: false, detail: `Redis at 127.0.0.1:${redis.port} did not answer PING: connection refused.` },
        postgres: { ok: true },
      },
    });
    expectNoClientText(text);
  });

  it('admin 503 names redis and the refusal', async () => {
    const response = await fetch(`${base}/admin/events/evt_1NotThere`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'store_unavailable',
        message: `The request to read the event on Redis at 127.0.0.1:${redis.port} did not complete: connection refused. Retry once Redis responds again.`,
      },
    });
    expectNoClientText(text);
  });

  it('webhook 503 promises only redelivery', async () => {
    const payload = readSample('invoice.paid.json').raw;
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });

    const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers: { 'Stripe-Signature': signature }, body: payload });
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      error: { code: 'store_unavailable', message: 'The event could not be confirmed as recorded; Stripe will deliver it again.' },
    });
  });
});
