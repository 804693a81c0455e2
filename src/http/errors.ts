import { HTTPException } from 'hono/http-exception';
import {
  InvalidTransitionError,
  NotFoundError,
  PipelineError,
  StoreUnavailableError,
  WebhookRejectedError,
} from '../errors.js';
import { RedisUnavailableError } from '../store/redis/failures.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Raised by a route for a query or path parameter it cannot accept (400). */
export class InvalidRequestError extends PipelineError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Raised when the admin bearer token is missing or wrong (401). */
export class UnauthorizedError extends PipelineError {
  /** True when a token was sent but did not match, so the challenge adds `error="invalid_token"`. */
  readonly tokenPresent: boolean;

  constructor(tokenPresent: boolean) {
    super(
      'unauthorized',
      tokenPresent
        ? 'The admin token is wrong. Send the value of ADMIN_TOKEN as "Authorization: Bearer <token>".'
        : 'The admin API needs a token. Send the value of ADMIN_TOKEN as "Authorization: Bearer <token>".',
    );
    this.tokenPresent = tokenPresent;
  }
}

/** Raised for a request method a path does not serve (405); the response lists the allowed ones. */
export class MethodNotAllowedError extends WebhookRejectedError {
  readonly allowedMethods: readonly string[];

  constructor(method: string, allowedMethods: readonly string[]) {
    super('method_not_allowed', `Method ${method} is not allowed here; use ${allowedMethods.join(' or ')}.`, 405);
    this.allowedMethods = allowedMethods;
  }
}

/** Raised when an operator replays an event whose status cannot be replayed (409). */
export class NotReplayableError extends PipelineError {
  constructor(eventId: string, status: string, replayableStatuses: readonly string[]) {
    super(
      'not_replayable',
      `Event ${eventId} is ${status}; only events that are ${replayableStatuses.join(' or ')} can be replayed.`,
      { context: { eventId, status } },
    );
  }
}

/** Raised when an operator retries an outbox message that is not failed (409). */
export class OutboxNotRetryableError extends PipelineError {
  constructor(messageId: string, status: string) {
    super('not_retryable', `Outbox message ${messageId} is ${status}; only failed messages can be retried.`, {
      context: { messageId, status },
    });
  }
}

/**
 * Raised by ingest when the store did not confirm that it recorded and enqueued the event (503).
 * After a timeout or a dropped connection the write may still have happened, so the message
 * promises only the redelivery: a later delivery is then acknowledged as a duplicate, and the event
 * is processed either way.
 */
export class EventNotConfirmedError extends StoreUnavailableError {
  constructor(eventId: string, cause: unknown) {
    super('The event could not be confirmed as recorded; Stripe will deliver it again.', { cause, context: { eventId } });
  }
}

const INTERNAL_ERROR_MESSAGE = 'The server failed to handle the request. The error is logged; try again later.';
const STORE_UNAVAILABLE_MESSAGE = 'The event store is unavailable; the error is logged. Try again later.';

/** The status, error code, message and extra headers of an error response. */
export interface HttpErrorDescription {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Chooses the HTTP status, code, message and headers for an error. This is the only place that
 * maps errors to statuses. Unknown errors become a generic 500, so no internal message or stack
 * trace reaches the caller.
 */
export function describeHttpError(error: unknown): HttpErrorDescription {
  if (error instanceof MethodNotAllowedError) {
    return describe(405, error, { Allow: error.allowedMethods.join(', ') });
  }
  if (error instanceof WebhookRejectedError) return describe(error.status, error);
  if (error instanceof InvalidRequestError) return describe(400, error);
  if (error instanceof UnauthorizedError) {
    const challenge = error.tokenPresent ? 'Bearer realm="admin", error="invalid_token"' : 'Bearer realm="admin"';
    return describe(401, error, { 'WWW-Authenticate': challenge });
  }
  if (error instanceof NotFoundError) return describe(404, error);
  if (error instanceof NotReplayableError || error instanceof InvalidTransitionError || error instanceof OutboxNotRetryableError) {
    return describe(409, error);
  }
  if (error instanceof StoreUnavailableError) {
    // Stripe retries any non-2xx response, so 503 turns a store outage into a later redelivery.
    // Only messages written for responses are passed on: the ingest one, and a Redis failure's
    // (address and reason, never the client's text). Any other store message stays in the log.
    const message = error instanceof EventNotConfirmedError || error instanceof RedisUnavailableError ? error.message : STORE_UNAVAILABLE_MESSAGE;
    return describe(503, { code: error.code, message });
  }
  if (error instanceof HTTPException && error.status < 500) {
    return describe(error.status, { code: 'bad_request', message: 'The request is invalid.' });
  }
  return describe(500, { code: 'internal_error', message: INTERNAL_ERROR_MESSAGE });
}

/** Builds the JSON error response `{"error":{"code","message"}}` that `describeHttpError` chooses. */
export function errorResponse(error: unknown): Response {
  return responseFor(describeHttpError(error));
}

export function responseFor(description: HttpErrorDescription): Response {
  const body: ErrorBody = { error: { code: description.code, message: description.message } };
  return jsonResponse(body, description.status, description.headers);
}

export function jsonResponse(body: unknown, status: number, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=UTF-8', ...headers },
  });
}

function describe(
  status: number,
  error: { readonly code: string; readonly message: string },
  headers: Readonly<Record<string, string>> = {},
): HttpErrorDescription {
  return { status, code: error.code, message: error.message, headers };
}
