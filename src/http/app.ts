import { Hono } from 'hono';
import type { Config } from '../config/config.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxListFilter, OutboxMessageView, OutboxRetryResult } from '../outbox/admin.js';
import { systemClock, type Clock, type EventStore, type JobQueue } from '../store/ports.js';
import { createAdminRoutes } from './admin-routes.js';
import { describeHttpError, errorResponse, responseFor } from './errors.js';
import { createHealthRoutes, type ReadinessChecks } from './health-routes.js';
import { createWebhookRoutes } from './webhook-route.js';

export interface HttpDependencies {
  readonly config: Config;
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Checks each dependency; `/readyz` responds with 503 when one fails. */
  readonly readiness: () => Promise<ReadinessChecks>;
  /** The ledger record of a Stripe object for `GET /admin/ledger/:id`; null when there is none. */
  readonly findLedgerRecord: (stripeObjectId: string) => Promise<unknown>;
  /** Enrichment results of an event for `GET /admin/events/:id`; the list is empty when absent. */
  readonly findEnrichments?: ((eventId: string) => Promise<unknown[]>) | undefined;
  /** Ledger outbox messages for `GET /admin/outbox`; without it the route is not served. */
  readonly listOutbox?: ((filter: OutboxListFilter) => Promise<OutboxMessageView[]>) | undefined;
  /** Moves a failed outbox message back to pending for `POST /admin/outbox/:id/retry`; without it the route is not served. */
  readonly retryOutboxMessage?: ((messageId: string) => Promise<OutboxRetryResult>) | undefined;
  /** Called after an event is accepted, for example to wake an embedded worker. */
  readonly onAccepted?: ((eventId: string) => void) | undefined;
  /** Clock for the signature timestamp tolerance; the system clock when absent. */
  readonly clock?: Clock | undefined;
  /**
   * Path of the webhook endpoint; `/webhooks/stripe` when absent. A serverless platform that routes
   * by file name passes the path it calls the function with, such as `/api/webhooks/stripe`.
   */
  readonly webhookPath?: string | undefined;
}

/**
 * Builds the HTTP application: the Stripe webhook endpoint at `webhookPath`, health, readiness and
 * metrics, and the admin API under `/admin` when `config.admin.token` is set (otherwise `/admin/*`
 * is 404). It is written against the Web Request/Response types, so it runs under Node and
 * serverless platforms. It also points the metrics' queue depth gauge at the event store.
 */
export function createApp(deps: HttpDependencies): Hono {
  const { config, logger, metrics } = deps;
  const app = new Hono();

  app.route(
    '/',
    createWebhookRoutes({
      config,
      events: deps.events,
      logger,
      metrics,
      clock: deps.clock ?? systemClock,
      webhookPath: deps.webhookPath,
      onAccepted: deps.onAccepted,
    }),
  );
  app.route('/', createHealthRoutes({ readiness: deps.readiness, metrics, logger }));
  if (config.admin.token !== undefined) {
    app.route(
      '/admin',
      createAdminRoutes({
        token: config.admin.token,
        events: deps.events,
        queue: deps.queue,
        logger,
        findLedgerRecord: deps.findLedgerRecord,
        findEnrichments: deps.findEnrichments,
        listOutbox: deps.listOutbox,
        retryOutboxMessage: deps.retryOutboxMessage,
      }),
    );
  }

  metrics.setQueueDepthSource(() => deps.events.countByStatus(), logger);
  handleErrors(app, logger);
  return app;
}

/**
 * Responds to unknown routes with 404 and to every error with the JSON error body that
 * `describeHttpError` chooses, logging 5xx at error and 4xx at info.
 */
export function handleErrors(app: Hono, logger: Logger): void {
  app.notFound((c) => {
    // Logged so that a mistyped endpoint URL in the Stripe Dashboard shows up; the query string,
    // which may carry tokens, is left out.
    logger.info({ method: c.req.method, path: c.req.path, status: 404 }, 'route not found');
    return errorResponse(new NotFoundError('Route', `${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    const description = describeHttpError(error);
    const fields = { code: description.code, status: description.status, method: c.req.method, path: c.req.path };
    if (description.status >= 500) {
      logger.error({ ...fields, err: error }, 'request failed');
    } else {
      logger.info(fields, 'request rejected');
    }
    return responseFor(description);
  });
}

/**
 * Returns the application as a Web-standard handler, `(request) => Promise<Response>`, for
 * serverless platforms that call a fetch function.
 */
export function createWebhookHandler(deps: HttpDependencies): (request: Request) => Promise<Response> {
  const app = createApp(deps);
  return async (request) => app.fetch(request);
}
