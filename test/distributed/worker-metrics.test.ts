import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeOf, parseStripeEvent } from '../../src/domain/stripe-event.js';
import { createSilentLogger } from '../../src/logger.js';
import { readSample } from '../../src/samples/fixtures.js';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.js';
import { createDataDirectory, processEnvironment, runCli, startCli, stopAll, type CliProcess } from './support/processes.js';
import { createTestSchema, deleteRedisKeys, freePort, REDIS_URL, requireRedis, uniquePrefix, type TestSchema } from './support/services.js';

/**
 * A real `worker` process with METRICS_PORT: its own metrics, health and readiness on that port,
 * and nothing else. AI enrichment points at a closed loopback port, so the breaker shows up in
 * `/readyz` and `/metrics` without any call leaving the machine.
 */

const WAIT_MS = 30_000;

describe('worker with METRICS_PORT', () => {
  const processes: CliProcess[] = [];
  const dataDirectory = createDataDirectory();
  const keyPrefix = uniquePrefix('worker-metrics');
  let schema: TestSchema;
  let store: RedisStore;
  let worker: CliProcess;
  let base: string;

  beforeAll(async () => {
    await requireRedis();
    schema = await createTestSchema('worker_metrics');
    const metricsPort = await freePort();
    const closedAiPort = await freePort();
    const env = processEnvironment(
      {
        redisUrl: REDIS_URL,
        databaseUrl: schema.url,
        keyPrefix,
        extra: { METRICS_PORT: String(metricsPort), AI_PROVIDER: 'openai', OPENAI_BASE_URL: `http://127.0.0.1:${closedAiPort}/v1`, OPENAI_MODEL: 'test-model' },
      },
      dataDirectory.path,
    );
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code, migrated.output).toBe(0);
    store = await openRedisStore({ url: REDIS_URL, keyPrefix, retentionDays: 7, logger: createSilentLogger() });

    worker = await startCli(['worker'], env);
    processes.push(worker);
    base = `http://127.0.0.1:${metricsPort}`;
    await waitFor('the metrics port to answer /healthz', async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200);
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes);
    await store?.close();
    await deleteRedisKeys(keyPrefix);
    await schema?.drop();
    dataDirectory.remove();
  });

  /** Polls `done` every 50 ms; fails naming `what` and the worker's output after WAIT_MS. */
  async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`Waited ${WAIT_MS} ms for ${what}. Worker output:\n${worker.output()}`);
      await sleep(50);
    }
  }

  it('serves metrics of processed events', async () => {
    const raw = readSample('payment_intent.succeeded.json').raw;
    const parsed = parseStripeEvent(JSON.parse(raw));
    if (!parsed.ok) throw new Error(parsed.problem);
    await store.events.ingest({ ...envelopeOf(parsed.event), payload: raw });
    await waitFor('the event to be processed', async () => (await store.events.get(parsed.event.id))?.status === 'processed');

    const response = await fetch(`${base}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).toContain('stripe_pipeline_events_processed_total{outcome="processed",event_type="payment_intent.succeeded"} 1');
    expect(text).toContain('stripe_pipeline_event_processing_duration_seconds_count{outcome="processed",event_type="payment_intent.succeeded"} 1');
    expect(text).toContain('stripe_pipeline_enrichment_circuit_breaker_state{provider="openai"} 0');
  });

  it('serves readiness with the breaker', async () => {
    const response = await fetch(`${base}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { redis: { ok: true }, postgres: { ok: true }, ai_breaker_openai: { ok: true, detail: 'circuit breaker closed' } },
    });
  });

  it('serves no webhook or admin route', async () => {
    const webhook = await fetch(`${base}/webhooks/stripe`, { method: 'POST', body: '{}' });
    const admin = await fetch(`${base}/admin/events`);

    expect(webhook.status).toBe(404);
    expect(admin.status).toBe(404);
  });
});
