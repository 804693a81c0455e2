import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { capturingLogger } from './harness.js';

describe('createMetrics', () => {
  it('creates independent instances without name clashes', async () => {
    const first = createMetrics();
    const second = createMetrics();

    first.recordWebhook('accepted', null, 0.002);

    expect(await first.registry.metrics()).toContain('stripe_pipeline_webhook_requests_total{outcome="accepted",code="none"} 1');
    expect(await second.registry.metrics()).not.toContain('stripe_pipeline_webhook_requests_total{outcome="accepted"');
  });

  it('registers on a registry it is given', async () => {
    const registry = new Registry();

    createMetrics(registry).recordWebhook('rejected', 'signature_mismatch', 0.0004);

    expect(await registry.metrics()).toContain('stripe_pipeline_webhook_requests_total{outcome="rejected",code="signature_mismatch"} 1');
  });

  it('puts a sub-millisecond ingest in the lowest buckets', async () => {
    const metrics = createMetrics();

    metrics.recordWebhook('accepted', null, 0.0002);

    const text = await metrics.registry.metrics();
    expect(text).toContain('stripe_pipeline_webhook_ingest_duration_seconds_bucket{le="0.0001",outcome="accepted"} 0');
    expect(text).toContain('stripe_pipeline_webhook_ingest_duration_seconds_bucket{le="0.00025",outcome="accepted"} 1');
    expect(text).toContain('stripe_pipeline_webhook_ingest_duration_seconds_bucket{le="0.1",outcome="accepted"} 1');
  });

  it('counts worker outcomes by event type, with ignored events apart', async () => {
    const metrics = createMetrics();

    metrics.recordJobOutcome({ kind: 'processed', eventType: 'invoice.paid', action: 'activate_subscription', durationMs: 12 });
    metrics.recordJobOutcome({ kind: 'processed', eventType: 'product.created', action: 'ignore_event', durationMs: 1 });
    metrics.recordJobOutcome({ kind: 'retried', eventType: 'invoice.paid', durationMs: 40 });
    metrics.recordJobOutcome({ kind: 'dead_lettered', eventType: 'charge.refunded', durationMs: 5 });
    metrics.recordJobOutcome({ kind: 'lock_busy', eventType: 'invoice.paid' });

    const text = await metrics.registry.metrics();
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="processed",event_type="invoice.paid"} 1');
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="ignored",event_type="product.created"} 1');
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="retried",event_type="invoice.paid"} 1');
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="dead_lettered",event_type="charge.refunded"} 1');
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="lock_busy",event_type="invoice.paid"} 1');
    expect(text).toContain('stripe_pipeline_event_processing_duration_seconds_sum{outcome="retried",event_type="invoice.paid"} 0.04');
    expect(text).not.toContain('stripe_pipeline_event_processing_duration_seconds_count{outcome="lock_busy"');
  });

  it('counts enrichment calls and reports the breaker state', async () => {
    const metrics = createMetrics();

    metrics.recordEnrichmentCall('gemini', 'ok');
    metrics.recordEnrichmentCall('gemini', 'failed');
    metrics.recordEnrichmentCall('gemini', 'failed');
    metrics.setBreakerState('gemini', 'open');
    metrics.setBreakerState('openai', 'half_open');

    const text = await metrics.registry.metrics();
    expect(text).toContain('stripe_pipeline_enrichment_calls_total{provider="gemini",outcome="failed"} 2');
    expect(text).toContain('stripe_pipeline_enrichment_calls_total{provider="gemini",outcome="ok"} 1');
    expect(text).toContain('stripe_pipeline_enrichment_circuit_breaker_state{provider="gemini"} 2');
    expect(text).toContain('stripe_pipeline_enrichment_circuit_breaker_state{provider="openai"} 1');
  });

  describe('queue depth', () => {
    it('reads the source at each scrape', async () => {
      const metrics = createMetrics();
      let received = 3;
      metrics.setQueueDepthSource(() => Promise.resolve({ received, dead: 1 }));

      expect(await metrics.registry.metrics()).toContain('stripe_pipeline_queue_depth{status="received"} 3');
      received = 0;
      const text = await metrics.registry.metrics();

      expect(text).toContain('stripe_pipeline_queue_depth{status="received"} 0');
      expect(text).toContain('stripe_pipeline_queue_depth{status="dead"} 1');
    });

    it('drops the values and logs a warning when the source fails', async () => {
      const metrics = createMetrics();
      const { logger, lines } = capturingLogger();
      let failing = false;
      metrics.setQueueDepthSource(() => (failing ? Promise.reject(new Error('database is locked')) : Promise.resolve({ received: 2 })), logger);
      expect(await metrics.registry.metrics()).toContain('stripe_pipeline_queue_depth{status="received"} 2');

      failing = true;
      const text = await metrics.registry.metrics();

      expect(text).not.toContain('stripe_pipeline_queue_depth{status=');
      expect(lines.some((line) => line.includes('"queue depth read failed"') && line.includes('"level":40'))).toBe(true);
    });

    it('stops reporting when the source is removed', async () => {
      const metrics = createMetrics();
      metrics.setQueueDepthSource(() => Promise.resolve({ received: 2 }));
      await metrics.registry.metrics();

      metrics.setQueueDepthSource(null);

      expect(await metrics.registry.metrics()).not.toContain('stripe_pipeline_queue_depth{status=');
    });
  });
});
