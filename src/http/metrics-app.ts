import { Hono } from 'hono';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { handleErrors } from './app.js';
import { createHealthRoutes, type ReadinessChecks } from './health-routes.js';
import { startHttpServer, type RunningHttpServer } from './server.js';

export interface MetricsAppDependencies {
  /** Checks each dependency; `/readyz` responds with 503 when one fails. */
  readonly readiness: () => Promise<ReadinessChecks>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** Reasons for the socket error codes of a failed listen. */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'listening on that port is not permitted',
  EADDRNOTAVAIL: 'HOST is not an address of this machine',
  ENOTFOUND: 'HOST is not an address of this machine',
};

/** Raised when the metrics server cannot listen on METRICS_PORT (taken, not permitted, no such address). */
export class MetricsPortError extends PipelineError {
  constructor(host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const reason = (code === undefined ? undefined : LISTEN_REASONS[code]) ?? `unexpected error ${code ?? ''}`.trim();
    super('metrics_port_unavailable', `Listening for metrics on ${host}:${port} failed: ${reason}. Set METRICS_PORT to a free port, or unset it.`, {
      cause,
      context: { host, port, errorCode: code ?? null },
    });
  }
}

/**
 * Builds the HTTP application of a process that does no ingest, such as a `worker` with
 * METRICS_PORT set: `GET /metrics`, `GET /healthz` and `GET /readyz` only. The webhook endpoint and
 * the admin API are not served, so the port can be opened to a scraper and to probes alone.
 */
export function createMetricsApp(deps: MetricsAppDependencies): Hono {
  const app = new Hono();
  app.route('/', createHealthRoutes(deps));
  handleErrors(app, deps.logger);
  return app;
}

/** Serves `createMetricsApp` on `host:port`; rejects with MetricsPortError when it cannot listen. */
export async function startMetricsServer(deps: MetricsAppDependencies & { readonly host: string; readonly port: number }): Promise<RunningHttpServer> {
  try {
    return await startHttpServer(createMetricsApp(deps), { host: deps.host, port: deps.port, logger: deps.logger });
  } catch (error) {
    throw new MetricsPortError(deps.host, deps.port, error);
  }
}
