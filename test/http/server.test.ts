import { createServer } from 'node:net';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../src/http/app.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/server.js';
import { createSilentLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { WEBHOOK_PATH } from '../../src/http/webhook-route.js';
import { createHarness, storedEventCount, type Harness } from './harness.js';
import { fixtureBody, NOW_MS, signatureHeader, testConfig } from './support.js';

const HOST = '127.0.0.1';
const payload = fixtureBody('checkout.session.completed.card_paid');

describe('startHttpServer', () => {
  let harness: Harness;
  let server: RunningHttpServer;

  beforeEach(async () => {
    harness = createHarness({ env: { BODY_LIMIT_BYTES: String(16 * 1024) } });
    server = await startHttpServer(harness.app, { host: HOST, port: 0, logger: createSilentLogger() });
  });
  afterEach(async () => {
    await server.close();
    await harness.close();
  });

  function post(body: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`http://${HOST}:${server.port}${WEBHOOK_PATH}`, { method: 'POST', headers, body });
  }

  it('listens on the port the system chose', () => {
    expect(server.port).toBeGreaterThan(0);
  });

  it('accepts a signed event over HTTP, then answers its redelivery as a duplicate', async () => {
    const header = signatureHeader(payload);

    const first = await post(payload, { 'Content-Type': 'application/json', 'Stripe-Signature': header });
    const second = await post(payload, { 'Content-Type': 'application/json', 'Stripe-Signature': header });

    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true });
    expect(await second.json()).toEqual({ received: true, duplicate: true });
    const id = (JSON.parse(payload) as { id: string }).id;
    expect((await harness.events.get(id))?.payload).toBe(payload);
  });

  it('rejects a body over the limit by its Content-Length', async () => {
    const body = `{"padding":"${'x'.repeat(20 * 1024)}"}`;

    const response = await post(body, { 'Stripe-Signature': signatureHeader(body) });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(await storedEventCount(harness.events)).toBe(0);
  });

  it('answers health and unknown routes in JSON', async () => {
    const health = await fetch(`http://${HOST}:${server.port}/healthz`);
    const missing = await fetch(`http://${HOST}:${server.port}/missing`);

    expect(await health.json()).toEqual({ status: 'ok' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('stops accepting connections once closed', async () => {
    await server.close();

    await expect(fetch(`http://${HOST}:${server.port}/healthz`)).rejects.toThrow();
  });
});

describe('startHttpServer shutdown', () => {
  it('waits for a request in flight before close resolves', async () => {
    let releaseRequest = (): void => undefined;
    let requestStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => {
      requestStarted = resolve;
    });
    const app = new Hono();
    app.get('/slow', async (c) => {
      requestStarted();
      await new Promise<void>((resolve) => {
        releaseRequest = resolve;
      });
      return c.json({ finished: true });
    });
    const server = await startHttpServer(app, { host: HOST, port: 0, logger: createSilentLogger() });

    const response = fetch(`http://${HOST}:${server.port}/slow`);
    await started;
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    // Let pending I/O callbacks run; a close that did not wait would have resolved by now.
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);

    releaseRequest();

    const finished = await response;
    expect(await finished.json()).toEqual({ finished: true });
    // The keep-alive connection is closed after this response, so close does not wait for its idle timeout.
    expect(finished.headers.get('connection')).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });

  it('rejects when the port is already taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    try {
      await expect(startHttpServer(new Hono(), { host: HOST, port, logger: createSilentLogger() })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('createWebhookHandler', () => {
  it('answers a Web Request with a Web Response', async () => {
    const harness = createHarness();
    try {
      const handler = createWebhookHandler({
        config: testConfig(),
        events: harness.events,
        queue: harness.store.queue,
        logger: createSilentLogger(),
        metrics: createMetrics(),
        readiness: () => Promise.resolve({}),
        findLedgerRecord: () => Promise.resolve(null),
        clock: () => NOW_MS,
      });
      const request = new Request(`http://localhost${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'Stripe-Signature': signatureHeader(payload) },
        body: payload,
      });

      const response = await handler(request);

      expect(response).toBeInstanceOf(Response);
      expect(await response.json()).toEqual({ received: true });
      expect(await storedEventCount(harness.events)).toBe(1);
    } finally {
      await harness.close();
    }
  });
});
