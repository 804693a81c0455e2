import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsApp } from '../../src/http/metrics-app.js';
import { createSilentLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { readSample } from '../../src/samples/fixtures.js';
import { startService, type RunningService } from '../../src/service.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';

const PAID_EVENT = readSample('payment_intent.succeeded.json');
const PAID_EVENT_ID = (JSON.parse(PAID_EVENT.raw) as { id: string }).id;

describe('metrics app', () => {
  function appWith(checks: Record<string, { ok: boolean; detail?: string }>): ReturnType<typeof createMetricsApp> {
    const metrics = createMetrics();
    metrics.recordJobOutcome({ kind: 'processed', eventType: 'invoice.paid', action: 'mark_order_paid', durationMs: 12 });
    return createMetricsApp({ readiness: () => Promise.resolve(checks), metrics, logger: createSilentLogger() });
  }

  it('serves the worker metrics', async () => {
    const response = await appWith({}).request('/metrics');

    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="processed",event_type="invoice.paid"} 1');
    expect(text).toContain('stripe_pipeline_event_processing_duration_seconds_count{outcome="processed",event_type="invoice.paid"} 1');
  });

  it('serves healthz and readyz with the breaker states', async () => {
    const app = appWith({ redis: { ok: true }, ai_breaker_openai: { ok: true, detail: 'circuit breaker open' } });

    const health = await app.request('/healthz');
    const ready = await app.request('/readyz');

    expect(await health.json()).toEqual({ status: 'ok' });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: { ok: true }, ai_breaker_openai: { ok: true, detail: 'circuit breaker open' } } });
  });

  it('readyz fails with a failed dependency', async () => {
    const response = await appWith({ postgres: { ok: false, detail: 'PostgreSQL at 127.0.0.1:5432/test did not answer select 1: connection refused.' } }).request('/readyz');

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'not_ready' });
  });

  it('serves no webhook or admin route', async () => {
    const app = appWith({});

    const webhook = await app.request('/webhooks/stripe', { method: 'POST', body: '{}' });
    const admin = await app.request('/admin/events', { headers: { Authorization: 'Bearer some-token-of-sixteen-chars' } });

    expect(webhook.status).toBe(404);
    expect(await webhook.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(admin.status).toBe(404);
  });
});

describe('METRICS_PORT', () => {
  let test: TestBackend | null = null;
  let service: RunningService | null = null;

  afterEach(async () => {
    await service?.stop();
    await test?.close();
    service = null;
    test = null;
  });

  async function start(role: 'worker' | 'all', env: Record<string, string>): Promise<RunningService> {
    test = await openTestBackend({ env: { WORKER_POLL_INTERVAL_MS: '10', ...env } });
    service = await startService({ config: test.config, backend: test.backend, logger: createSilentLogger(), role });
    return service;
  }

  /** Polls the event every 10 ms until it is processed; fails naming its status after 10 s. */
  async function waitUntilProcessed(running: TestBackend, eventId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = (await running.backend.events.get(eventId))?.status;
      if (status === 'processed') return;
      if (Date.now() > deadline) throw new Error(`Event ${eventId} was still ${String(status)} after 10 s.`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('worker serves its metrics there', async () => {
    const running = await start('worker', { METRICS_PORT: '0' });
    expect(running.port).toBeNull();
    expect(running.metricsPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${running.metricsPort ?? 0}`;

    await test?.ingest(PAID_EVENT.raw);
    if (test !== null) await waitUntilProcessed(test, PAID_EVENT_ID);
    const metrics = await fetch(`${base}/metrics`);
    const ready = await fetch(`${base}/readyz`);
    const webhook = await fetch(`${base}/webhooks/stripe`, { method: 'POST', body: PAID_EVENT.raw });

    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="processed",event_type="payment_intent.succeeded"} 1');
    expect(text).toContain('stripe_pipeline_queue_depth{status="processed"} 1');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { sqlite: { ok: true } } });
    expect(webhook.status).toBe(404);
  });

  it('worker without it opens no port', async () => {
    const running = await start('worker', {});

    expect(running.metricsPort).toBeNull();
  });

  it('ignored where PORT serves metrics', async () => {
    const running = await start('all', { METRICS_PORT: '0' });

    expect(running.port).toBeGreaterThan(0);
    expect(running.metricsPort).toBeNull();
  });
});
