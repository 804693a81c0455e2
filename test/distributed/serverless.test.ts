import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/logger.js';
import { readSample } from '../../src/samples/fixtures.js';
import { createServerlessWebhookHandler, type ServerlessWebhookHandler } from '../../src/serverless.js';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.js';
import { deleteRedisKeys, freePort, REDIS_URL, requireRedis, uniquePrefix } from './support/services.js';

const SECRET = 'whsec_serverless_test_secret';
/** Never connected to: the serverless handler reaches PostgreSQL only for the admin API. */
const UNUSED_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

function signedRequest(payload: string, secret: string = SECRET, path = '/webhooks/stripe'): Request {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
  return new Request(`http://127.0.0.1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
}

function environment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_URL, DATABASE_URL: UNUSED_DATABASE_URL, STRIPE_WEBHOOK_SECRET: SECRET, ...overrides };
}

describe('serverless webhook handler', () => {
  const keyPrefix = uniquePrefix('serverless');
  const handlers: ServerlessWebhookHandler[] = [];
  let store: RedisStore;

  function handlerFor(overrides: Record<string, string> = {}, options: { webhookPath?: string } = {}): ServerlessWebhookHandler {
    const handler = createServerlessWebhookHandler(environment({ REDIS_KEY_PREFIX: keyPrefix, ...overrides }), { logger: createSilentLogger(), ...options });
    handlers.push(handler);
    return handler;
  }

  beforeAll(async () => {
    await requireRedis();
    store = await openRedisStore({ url: REDIS_URL, keyPrefix, retentionDays: 7, logger: createSilentLogger() });
  });

  afterAll(async () => {
    for (const handler of handlers) await handler.close();
    await store?.close();
    await deleteRedisKeys(keyPrefix);
  });

  it('records a signed event in redis', async () => {
    const handler = handlerFor();
    const sample = readSample('payment_intent.succeeded.json');
    const eventId = (JSON.parse(sample.raw) as { id: string }).id;

    const response = await handler(signedRequest(sample.raw));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
    expect(await store.events.get(eventId)).toMatchObject({ id: eventId, status: 'received', payload: sample.raw });
  });

  it('answers a redelivery as a duplicate', async () => {
    const handler = handlerFor();
    const sample = readSample('customer.created.json');

    expect((await handler(signedRequest(sample.raw))).status).toBe(200);
    const again = await handler(signedRequest(sample.raw));

    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ received: true, duplicate: true });
  });

  it('rejects a wrong signature with 400', async () => {
    const handler = handlerFor();
    const sample = readSample('charge.succeeded.json');

    const response = await handler(signedRequest(sample.raw, 'whsec_some_other_secret'));

    expect(response.status).toBe(400);
    expect(await store.events.get((JSON.parse(sample.raw) as { id: string }).id)).toBeNull();
  });

  it('reports redis in readyz', async () => {
    const handler = handlerFor();

    const response = await handler(new Request('http://127.0.0.1/readyz'));

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ checks: { redis: { ok: true } } });
  });

  it('answers 503 while redis is unreachable', async () => {
    const closedPort = await freePort();
    const handler = handlerFor({ REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    const sample = readSample('invoice.paid.json');

    const first = await handler(signedRequest(sample.raw));
    const second = await handler(signedRequest(sample.raw));

    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ error: { code: 'store_unavailable' } });
    expect(second.status).toBe(503);
  });

  it('answers 500 without an endpoint secret', async () => {
    const handler = handlerFor({ STRIPE_WEBHOOK_SECRET: '' });
    const sample = readSample('invoice.paid.json');

    const response = await handler(signedRequest(sample.raw));

    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('STRIPE_WEBHOOK_SECRET');
  });

  it('keeps healthz and readyz without a secret', async () => {
    const handler = handlerFor({ STRIPE_WEBHOOK_SECRET: '' });

    const health = await handler(new Request('http://127.0.0.1/healthz'));
    const ready = await handler(new Request('http://127.0.0.1/readyz'));

    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'not_ready',
      checks: { configuration: { ok: false, detail: 'The configuration is invalid; the function log lists the problems.' } },
    });
  });

  describe('with webhookPath', () => {
    const VERCEL_PATH = '/api/webhooks/stripe';

    it('records an event at that path', async () => {
      const handler = handlerFor({}, { webhookPath: VERCEL_PATH });
      const sample = readSample('charge.refunded.full.json');
      const eventId = (JSON.parse(sample.raw) as { id: string }).id;

      const response = await handler(signedRequest(sample.raw, SECRET, VERCEL_PATH));

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true });
      expect(await store.events.get(eventId)).toMatchObject({ id: eventId, status: 'received' });
    });

    it('no longer serves the default path', async () => {
      const handler = handlerFor({}, { webhookPath: VERCEL_PATH });
      const sample = readSample('charge.refunded.full.json');

      const response = await handler(signedRequest(sample.raw));

      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    });

    it('rejects other methods with 405', async () => {
      const handler = handlerFor({}, { webhookPath: VERCEL_PATH });

      const response = await handler(new Request(`http://127.0.0.1${VERCEL_PATH}`));

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });

    it('rejects a path that is not plain', () => {
      expect(() => createServerlessWebhookHandler(environment({}), { webhookPath: 'api/webhooks/stripe' })).toThrow(RangeError);
      expect(() => createServerlessWebhookHandler(environment({}), { webhookPath: '/api/*' })).toThrow('webhookPath should be a path such as /api/webhooks/stripe');
    });
  });

  describe('while redis is down', () => {
    let closedPort: number;
    let handler: ServerlessWebhookHandler;

    beforeAll(async () => {
      // A free loopback port with nothing listening: every connection is refused.
      closedPort = await freePort();
      handler = handlerFor({ REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    });

    it('healthz reports the process up', async () => {
      const response = await handler(new Request('http://127.0.0.1/healthz'));

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });

    it('readyz names redis and the refusal', async () => {
      const response = await handler(new Request('http://127.0.0.1/readyz'));

      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not_ready',
        checks: {
          redis: {
            ok: false,
            detail: `Connecting to Redis at 127.0.0.1:${closedPort} failed: connection refused. Start Redis, or correct the host and port in REDIS_URL.`,
          },
        },
      });
    });

    it('rejects a bad signature without redis', async () => {
      const sample = readSample('invoice.paid.json');

      const response = await handler(signedRequest(sample.raw, 'whsec_some_other_secret'));

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'signature_mismatch' } });
    });

    it('webhook 503 promises only redelivery', async () => {
      const sample = readSample('invoice.paid.json');

      const response = await handler(signedRequest(sample.raw));

      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { code: 'store_unavailable', message: 'The event could not be confirmed as recorded; Stripe will deliver it again.' },
      });
    });

    it('metrics count unavailable deliveries', async () => {
      await handler(signedRequest(readSample('invoice.paid.json').raw));

      const response = await handler(new Request('http://127.0.0.1/metrics'));

      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/stripe_pipeline_webhook_requests_total\{outcome="unavailable",code="store_unavailable"\} [1-9]/);
    });
  });
});
