import { performance } from 'node:perf_hooks';
import { Hono } from 'hono';
import type { Config } from '../config/config.js';
import { envelopeOf, parseStripeEvent, type EventEnvelope, type StripeEvent } from '../domain/stripe-event.js';
import { StoreUnavailableError, WebhookRejectedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics, WebhookOutcome } from '../metrics.js';
import type { Clock, EventStore, IncomingEvent, IngestOutcome } from '../store/ports.js';
import { describeHttpError, EventNotConfirmedError, jsonResponse, MethodNotAllowedError, responseFor, type HttpErrorDescription } from './errors.js';
import { decodeUtf8Body, readBodyWithLimit } from './read-body.js';
import { verifyStripeSignature } from './verify-signature.js';

export const WEBHOOK_PATH = '/webhooks/stripe';

export interface WebhookRouteDependencies {
  readonly config: Config;
  readonly events: EventStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Path of the endpoint; WEBHOOK_PATH (`/webhooks/stripe`) when absent. */
  readonly webhookPath?: string | undefined;
  /** Called after an event is accepted, for example to wake an embedded worker. Must not throw. */
  readonly onAccepted?: ((eventId: string) => void) | undefined;
}

/**
 * Creates `POST /webhooks/stripe` (or `webhookPath`): verify, record and enqueue, respond. Nothing
 * else happens on this path (no decision, no ledger, no enrichment), because Stripe waits for the
 * response and the target is a p99 well under 10 ms. Any other method gets 405.
 */
export function createWebhookRoutes(deps: WebhookRouteDependencies): Hono {
  const path = checkWebhookPath(deps.webhookPath ?? WEBHOOK_PATH);
  const app = new Hono();
  app.post(path, (c) => handleDelivery(c.req.raw, deps));
  app.all(path, (c) => {
    throw new MethodNotAllowedError(c.req.method, ['POST']);
  });
  return app;
}

/**
 * Returns `path` when it can be a webhook path: it starts with `/` and contains no route parameters,
 * wildcards, query or fragment. Throws RangeError otherwise.
 */
export function checkWebhookPath(path: string): string {
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
    throw new RangeError(`webhookPath should be a path such as /api/webhooks/stripe (letters, digits, ".", "_", "~", "-" between slashes), got ${JSON.stringify(path)}`);
  }
  return path;
}

async function handleDelivery(request: Request, deps: WebhookRouteDependencies): Promise<Response> {
  const startedAt = performance.now();
  let envelope: EventEnvelope | null = null;

  try {
    const bytes = await readBodyWithLimit(request, deps.config.http.bodyLimitBytes);
    const payload = decodeUtf8Body(bytes);
    const { secretIndex } = verifyStripeSignature(payload, request.headers.get('stripe-signature'), {
      secrets: deps.config.stripe.webhookSecrets,
      toleranceSeconds: deps.config.stripe.toleranceSeconds,
      clock: deps.clock,
    });
    envelope = envelopeOf(parseEvent(payload));

    const outcome = await ingest(deps.events, { ...envelope, payload });
    return respondToIngest(outcome, { eventId: envelope.id, eventType: envelope.type, secretIndex }, deps, elapsedSeconds(startedAt));
  } catch (error) {
    const description = describeHttpError(error);
    logFailure(deps.logger, error, description, envelope);
    deps.metrics.recordWebhook(webhookOutcomeOf(description.status), description.code, elapsedSeconds(startedAt));
    return responseFor(description);
  }
}

function parseEvent(payload: string): StripeEvent {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (error) {
    // The parser's message quotes part of the body, so it is not passed on.
    if (error instanceof SyntaxError) {
      throw new WebhookRejectedError('invalid_json', 'The request body is not valid JSON. Send the event exactly as Stripe delivers it.');
    }
    throw error;
  }

  const parsed = parseStripeEvent(value);
  if (!parsed.ok) {
    throw new WebhookRejectedError('not_a_stripe_event', `The request body is not a Stripe event: ${parsed.problem}.`);
  }
  return parsed.event;
}

/** Records the event; any store failure becomes EventNotConfirmedError, so the response is 503 and Stripe delivers the event again. */
async function ingest(events: EventStore, event: IncomingEvent): Promise<IngestOutcome> {
  try {
    return await events.ingest(event);
  } catch (error) {
    throw new EventNotConfirmedError(event.id, error);
  }
}

/** Ids logged with an ingested event; `secretIndex` shows which endpoint secret verified it during a rotation. */
interface IngestedEventFields {
  readonly eventId: string;
  readonly eventType: string;
  readonly secretIndex: number;
}

function respondToIngest(
  outcome: IngestOutcome,
  fields: IngestedEventFields,
  deps: WebhookRouteDependencies,
  durationSeconds: number,
): Response {
  switch (outcome.kind) {
    case 'accepted':
      deps.logger.info(fields, 'event accepted');
      deps.metrics.recordWebhook('accepted', null, durationSeconds);
      notifyAccepted(deps, fields.eventId);
      return jsonResponse({ received: true }, 200);
    case 'duplicate':
      deps.logger.info({ ...fields, status: outcome.status }, 'duplicate event ignored');
      deps.metrics.recordWebhook('duplicate', null, durationSeconds);
      return jsonResponse({ received: true, duplicate: true }, 200);
  }
}

function notifyAccepted(deps: WebhookRouteDependencies, eventId: string): void {
  if (deps.onAccepted === undefined) return;
  try {
    deps.onAccepted(eventId);
  } catch (error) {
    // The event is already durable and the worker polls anyway, so the response stays 200.
    deps.logger.warn({ err: error, eventId }, 'accepted-event callback failed');
  }
}

function logFailure(logger: Logger, error: unknown, description: HttpErrorDescription, envelope: EventEnvelope | null): void {
  const fields = {
    code: description.code,
    status: description.status,
    ...(envelope === null ? {} : { eventId: envelope.id, eventType: envelope.type }),
  };
  if (description.status >= 500) {
    const cause = error instanceof StoreUnavailableError && error.cause !== undefined ? error.cause : error;
    logger.error({ ...fields, err: cause }, description.status === 503 ? 'event store unavailable' : 'webhook request failed');
    return;
  }
  // A missing endpoint secret rejects every delivery until an operator fixes the configuration.
  if (description.code === 'no_secret_configured') {
    logger.error(fields, 'webhook rejected');
    return;
  }
  logger.info(fields, 'webhook rejected');
}

function webhookOutcomeOf(status: number): WebhookOutcome {
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'error';
  return 'rejected';
}

function elapsedSeconds(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
