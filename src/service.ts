import type { Backend, ReadinessChecks } from './backend/types.js';
import type { Config } from './config/config.js';
import { decide } from './decision/decide.js';
import { createEnrichment, type Enrichment } from './enrichment/create.js';
import { findEnrichments } from './enrichment/ledger-store.js';
import { enrichmentRequestFor } from './enrichment/ports.js';
import { withReviewAdvice } from './enrichment/review-advice.js';
import { createApp } from './http/app.js';
import { startMetricsServer } from './http/metrics-app.js';
import { startHttpServer, type RunningHttpServer } from './http/server.js';
import { applyEvent } from './ledger/apply.js';
import { lockKeyFor } from './ledger/lock-key.js';
import { findLedgerRecord } from './ledger/read.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { listOutboxMessages, retryOutboxMessage } from './outbox/admin.js';
import { createOutboxRelay } from './outbox/create.js';
import type { OutboxRelay } from './outbox/relay.js';
import type { Clock } from './store/ports.js';
import { PipelineWorker, type WorkerOptions } from './worker/worker.js';

export type ServiceRole = 'all' | 'serve' | 'worker';

export interface RunningService {
  /** Port the HTTP server listens on; null for a worker-only process. */
  readonly port: number | null;
  /** Port of a worker's metrics server (METRICS_PORT); null when it has none. */
  readonly metricsPort: number | null;
  readonly worker: PipelineWorker | null;
  /** Sends ledger outbox messages; null for an HTTP-only process or when OUTBOX_WEBHOOK_URL is unset. */
  readonly outboxRelay: OutboxRelay | null;
  readonly metrics: Metrics;
  /** Stops accepting requests and jobs, waits for work in flight, then closes the backend. */
  stop(): Promise<void>;
}

export function workerOptionsFrom(config: Config, concurrency?: number): WorkerOptions {
  const { worker } = config;
  return {
    concurrency: concurrency ?? worker.concurrency,
    leaseMs: worker.leaseMs,
    lockTtlMs: worker.lockTtlMs,
    handlerTimeoutMs: worker.handlerTimeoutMs,
    maxRetries: worker.maxRetries,
    backoffBaseMs: worker.backoffBaseMs,
    backoffMaxMs: worker.backoffMaxMs,
    pollIntervalMs: worker.pollIntervalMs,
    shutdownGraceMs: worker.shutdownGraceMs,
  };
}

export function createWorker(options: {
  config: Config;
  backend: Backend;
  logger: Logger;
  metrics?: Metrics;
  enrichment?: Enrichment;
  clock?: Clock;
  concurrency?: number;
}): PipelineWorker {
  const { config, backend, metrics, enrichment } = options;
  return new PipelineWorker({
    queue: backend.queue,
    locks: backend.locks,
    decide,
    decisionContext: { livemode: config.stripe.livemode, manualReviewAmount: config.decisions.manualReviewAmount },
    lockKeyFor,
    applyEvent: (input) => applyEvent(backend.ledger, input),
    logger: options.logger.child({ component: 'worker' }),
    clock: options.clock,
    options: workerOptionsFrom(config, options.concurrency),
    onOutcome: metrics === undefined ? undefined : (outcome) => metrics.recordJobOutcome(outcome),
    requestEnrichment:
      enrichment?.queue == null
        ? undefined
        : async ({ eventId, eventType, account, decision }) => {
            const request = enrichmentRequestFor({ id: eventId, type: eventType, account, created: 0, livemode: false }, decision);
            if (request !== null) await enrichment.request(request);
          },
  });
}

/** Sets up AI enrichment on the backend's queue store; a no-op object when AI_PROVIDER=none. */
export function createBackendEnrichment(options: { config: Config; backend: Backend; logger: Logger; metrics?: Metrics }): Enrichment {
  const { config, backend, metrics } = options;
  const enrichment = createEnrichment(config, {
    // createEnrichment adds its own `component` field to the logger.
    logger: options.logger,
    ledger: backend.ledger,
    loadEvent: async (eventId) => {
      const record = await backend.events.get(eventId);
      return record === null ? null : { type: record.type, payload: record.payload };
    },
    ...(backend.sqlite ? { sqlite: backend.sqlite.database, sqliteGate: backend.sqlite.gate } : {}),
    ...(metrics
      ? {
          onBreakerStateChange: (provider, state) => metrics.setBreakerState(provider, state),
          onCall: (provider, outcome) => metrics.recordEnrichmentCall(provider, outcome),
        }
      : {}),
  });
  // The gauge otherwise has no series until a breaker first changes state.
  for (const [provider, state] of Object.entries(enrichment.breakerStates())) metrics?.setBreakerState(provider, state);
  return enrichment;
}

/** Starts the HTTP server, the worker, or both on one backend, as the role requests. */
export async function startService(options: {
  config: Config;
  backend: Backend;
  logger: Logger;
  role: ServiceRole;
  concurrency?: number;
}): Promise<RunningService> {
  const { config, backend, logger, role } = options;
  const metrics = createMetrics();

  const enrichment = role === 'serve' ? null : createBackendEnrichment({ config, backend, logger, metrics });
  const worker =
    role === 'serve'
      ? null
      : createWorker({ config, backend, logger, metrics, concurrency: options.concurrency, ...(enrichment ? { enrichment } : {}) });
  const outboxRelay = role === 'serve' ? null : createOutboxRelay({ config, ledger: backend.ledger, logger });
  const readiness = async (): Promise<ReadinessChecks> => ({ ...(await backend.readiness()), ...breakerChecks(enrichment) });

  let server: { port: number; close(): Promise<void> } | null = null;
  if (role !== 'worker') {
    const app = createApp({
      config,
      events: backend.events,
      queue: backend.queue,
      logger: logger.child({ component: 'http' }),
      metrics,
      readiness,
      findLedgerRecord: async (id) => withReviewAdvice(backend.ledger, await findLedgerRecord(backend.ledger, id)),
      findEnrichments: (eventId) => findEnrichments(backend.ledger, eventId),
      listOutbox: (filter) => listOutboxMessages(backend.ledger, filter),
      retryOutboxMessage: async (messageId) => {
        const result = await retryOutboxMessage(backend.ledger, messageId);
        if (result.kind === 'retried') outboxRelay?.notify();
        return result;
      },
      onAccepted: worker === null ? undefined : () => worker.notify(),
    });
    server = await startHttpServer(app, { host: config.http.host, port: config.http.port, logger });
  }
  let metricsServer: RunningHttpServer | null = null;
  try {
    metricsServer = await startWorkerMetrics({ config, backend, logger, role, metrics, readiness });
  } catch (error) {
    await enrichment?.close();
    throw error;
  }
  worker?.start();
  enrichment?.runner?.start();
  outboxRelay?.start();
  if (role !== 'serve' && outboxRelay === null) {
    logger.info({ role }, 'outbox relay off: OUTBOX_WEBHOOK_URL is unset, so outbox messages stay pending');
  }
  const maintenance = worker === null ? null : startMaintenance(backend, logger);
  logger.info({ role, backend: backend.kind, port: server?.port ?? null, metricsPort: metricsServer?.port ?? null }, 'service started');
  if (server !== null && config.admin.token === undefined) logger.info('admin API disabled; set ADMIN_TOKEN to serve /admin');

  let stopping: Promise<void> | null = null;
  return {
    port: server?.port ?? null,
    metricsPort: metricsServer?.port ?? null,
    worker,
    outboxRelay,
    metrics,
    stop(): Promise<void> {
      stopping ??= (async () => {
        logger.info({ role }, 'service stopping');
        await server?.close();
        if (maintenance !== null) clearInterval(maintenance);
        await worker?.stop();
        // The relay keeps polling while the worker finishes its last jobs, and stops before the ledger closes.
        await outboxRelay?.stop();
        await enrichment?.close();
        // The metrics server keeps serving scrapes and probes until the work has stopped.
        await metricsServer?.close();
        await backend.close();
        logger.info({ role }, 'service stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Starts the metrics server of a `worker` when METRICS_PORT is set, so the worker's own metrics
 * (events processed, processing duration, enrichment calls, breaker states) can be scraped. A
 * process with ingest serves them on PORT instead and ignores METRICS_PORT. The queue depth is
 * store-wide, so every process that serves metrics reports the same value.
 */
async function startWorkerMetrics(options: {
  config: Config;
  backend: Backend;
  logger: Logger;
  role: ServiceRole;
  metrics: Metrics;
  readiness: () => Promise<ReadinessChecks>;
}): Promise<RunningHttpServer | null> {
  const { config, backend, logger, role, metrics } = options;
  const port = config.http.metricsPort;
  if (port === undefined) return null;
  if (role !== 'worker') {
    logger.info({ role, metricsPort: port }, 'METRICS_PORT ignored: this process serves /metrics on PORT');
    return null;
  }
  metrics.setQueueDepthSource(() => backend.events.countByStatus(), logger);
  const metricsLogger = logger.child({ component: 'metrics' });
  return startMetricsServer({ host: config.http.host, port, readiness: options.readiness, metrics, logger: metricsLogger });
}

/**
 * Reports each AI provider's circuit breaker in `/readyz`. An open breaker is shown but never makes
 * the service unready, because enrichment is optional.
 */
function breakerChecks(enrichment: Enrichment | null): ReadinessChecks {
  const checks: ReadinessChecks = {};
  for (const [provider, state] of Object.entries(enrichment?.breakerStates() ?? {})) {
    checks[`ai_breaker_${provider}`] = { ok: true, detail: `circuit breaker ${state}` };
  }
  return checks;
}

const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

/** Runs the backend's retention clean-up now and every 10 minutes while the worker runs. */
function startMaintenance(backend: Backend, logger: Logger): NodeJS.Timeout | null {
  const run = backend.runMaintenance?.bind(backend);
  if (run === undefined) return null;
  const tick = (): void => {
    run().catch((error: unknown) => {
      // Retention is housekeeping; the next tick tries again.
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'store maintenance failed');
    });
  };
  tick();
  const timer = setInterval(tick, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return timer;
}
