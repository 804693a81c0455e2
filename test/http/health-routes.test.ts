import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { createHarness, type Harness } from './harness.js';
import { ADMIN_TOKEN, fixtureBody } from './support.js';

describe('health, readiness and metrics', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('answers /healthz with ok', async () => {
    harness = createHarness();

    const response = await harness.app.request('/healthz');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  describe('GET /readyz', () => {
    it('answers ready when every check passes', async () => {
      harness = createHarness();

      const response = await harness.app.request('/readyz');

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ready', checks: { eventStore: { ok: true } } });
    });

    it('answers 503 with the failing check', async () => {
      harness = createHarness({
        readiness: () => Promise.resolve({ eventStore: { ok: true }, ledger: { ok: false, detail: 'connection refused' } }),
      });

      const response = await harness.app.request('/readyz');

      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'not_ready',
        checks: { eventStore: { ok: true }, ledger: { ok: false, detail: 'connection refused' } },
      });
    });

    it('logs only changes between ready and not ready', async () => {
      let ledgerUp = false;
      harness = createHarness({ readiness: () => Promise.resolve({ ledger: { ok: ledgerUp } }) });

      await harness.app.request('/readyz');
      await harness.app.request('/readyz');
      ledgerUp = true;
      await harness.app.request('/readyz');

      expect(harness.logLines.filter((line) => line.includes('"service not ready"'))).toHaveLength(1);
      expect(harness.logLines.filter((line) => line.includes('"service ready again"'))).toHaveLength(1);
    });

    it('answers 503 without the error text when the check itself throws', async () => {
      harness = createHarness();
      await harness.store.close();

      const response = await harness.app.request('/readyz');

      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
      expect(body.status).toBe('not_ready');
      expect(body.checks.readiness?.ok).toBe(false);
      expect(JSON.stringify(body)).not.toContain('SQLite');
      expect(harness.logLines.some((line) => line.includes('"readiness check failed"') && line.includes('"level":50'))).toBe(true);
    });
  });

  describe('GET /metrics', () => {
    it('exposes the webhook counters, the ingest histogram and the queue depth', async () => {
      harness = createHarness();
      const payload = fixtureBody('payment_intent.succeeded');
      await harness.deliver(payload);
      await harness.deliver(payload);
      await harness.deliver(payload, null);

      const response = await harness.app.request('/metrics');

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toContain('stripe_pipeline_webhook_requests_total{outcome="accepted",code="none"} 1');
      expect(text).toContain('stripe_pipeline_webhook_requests_total{outcome="duplicate",code="none"} 1');
      expect(text).toContain('stripe_pipeline_webhook_requests_total{outcome="rejected",code="signature_missing"} 1');
      expect(text).toContain('stripe_pipeline_webhook_ingest_duration_seconds_count{outcome="accepted"} 1');
      expect(text).toContain('stripe_pipeline_queue_depth{status="received"} 1');
      expect(text).toContain('stripe_pipeline_queue_depth{status="dead"} 0');
      expect(text).toContain('# TYPE stripe_pipeline_events_processed_total counter');
    });

    it('counts store failures as unavailable', async () => {
      harness = createHarness();
      await harness.store.close();

      await harness.deliver(fixtureBody('charge.succeeded'));
      const text = await (await harness.app.request('/metrics')).text();

      expect(text).toContain('stripe_pipeline_webhook_requests_total{outcome="unavailable",code="store_unavailable"} 1');
      expect(text).not.toMatch(/stripe_pipeline_queue_depth\{/);
    });
  });

  describe('unknown routes and unexpected errors', () => {
    it('answers 404 in JSON for an unknown route', async () => {
      harness = createHarness();

      const response = await harness.app.request('/nothing/here');

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'Route GET /nothing/here was not found.' } });
    });

    it('answers 500 with a generic message and logs the error', async () => {
      harness = createHarness({
        env: { ADMIN_TOKEN },
        findLedgerRecord: () => Promise.reject(new Error('relation "ledger_orders" does not exist')),
      });

      const response = await harness.app.request('/admin/ledger/pi_1', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });

      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'internal_error' } });
      expect(text).not.toContain('ledger_orders');
      expect(text).not.toMatch(/\n\s+at /);
      const line = harness.logLines.find((entry) => entry.includes('"request failed"'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 50, path: '/admin/ledger/pi_1', err: { message: 'relation "ledger_orders" does not exist' } });
    });

    it('answers 503 when an admin read finds the store unavailable', async () => {
      harness = createHarness({
        env: { ADMIN_TOKEN },
        wrapEvents: (events) => ({
          ingest: (event) => events.ingest(event),
          get: (eventId) => events.get(eventId),
          countByStatus: () => events.countByStatus(),
          ping: () => events.ping(),
          list: () => Promise.reject(new StoreUnavailableError('Injected failure: the event store cannot read.')),
        }),
      });

      const response = await harness.app.request('/admin/events', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });

      expect(response.status).toBe(503);
      // Only a Redis failure's message, written for responses, is passed on; this one stays in the log.
      expect(await response.json()).toEqual({
        error: { code: 'store_unavailable', message: 'The event store is unavailable; the error is logged. Try again later.' },
      });
    });
  });
});
