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

function signedRequest(payload: string, secret: string = SECRET): Request {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
  return new Request('http://127.0.0.1/webhooks/stripe', {
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

  function handlerFor(overrides: Record<string, string> = {}): ServerlessWebhookHandler {
    const handler = createServerlessWebhookHandler(environment({ REDIS_KEY_PREFIX: keyPrefix, ...overrides }), { logger: createSilentLogger() });
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
});
