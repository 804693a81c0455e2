import { Hono } from 'hono';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

export type ReadinessChecks = Record<string, { ok: boolean; detail?: string }>;

export interface HealthRouteDependencies {
  /** Checks each dependency (event store, queue, ledger); `/readyz` responds with 503 when one fails. */
  readonly readiness: () => Promise<ReadinessChecks>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * `GET /healthz` (the process is up), `GET /readyz` (its dependencies respond) and `GET /metrics`
 * (Prometheus text format).
 */
export function createHealthRoutes(deps: HealthRouteDependencies): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Probes poll /readyz every few seconds, so only a change of state is logged.
  let lastReady = true;
  app.get('/readyz', async (c) => {
    const checks = await runReadinessChecks(deps);
    const ready = Object.values(checks).every((check) => check.ok);
    if (ready !== lastReady) {
      if (ready) deps.logger.info({ checks }, 'service ready again');
      else deps.logger.warn({ checks }, 'service not ready');
      lastReady = ready;
    }
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': deps.metrics.registry.contentType });
  });

  return app;
}

async function runReadinessChecks(deps: HealthRouteDependencies): Promise<ReadinessChecks> {
  try {
    return await deps.readiness();
  } catch (error) {
    // A check that throws instead of reporting is itself a failed check; its message stays in the log.
    deps.logger.error({ err: error }, 'readiness check failed');
    return { readiness: { ok: false, detail: 'the readiness check failed; see the service log' } };
  }
}
