/**
 * Error hierarchy shared by every layer. Each error has a stable `code` that logs, the admin API
 * and the dead-letter list show, so operators can search for it. Errors that cross the queue come
 * back as plain objects, so retry decisions use `isNonRetryable` (which checks `name` as well as
 * `instanceof`).
 */
export class PipelineError extends Error {
  readonly code: string;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** Raised at start-up when one or more settings are missing or invalid. */
export class ConfigError extends PipelineError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super('config_invalid', `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Raised by ingest when a request fails signature verification or is not a Stripe event. */
export class WebhookRejectedError extends PipelineError {
  readonly status: 400 | 405 | 413;

  constructor(code: string, message: string, status: 400 | 405 | 413 = 400) {
    super(code, message);
    this.status = status;
  }
}

/** Raised when the event store or queue cannot take a write; ingest returns 503 so Stripe retries. */
export class StoreUnavailableError extends PipelineError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super('store_unavailable', message, options);
  }
}

/** Raised for a state transition that the event state machine does not allow. */
export class InvalidTransitionError extends PipelineError {
  constructor(eventId: string, from: string, to: string) {
    super('invalid_transition', `Event ${eventId} cannot move from "${from}" to "${to}".`, {
      context: { eventId, from, to },
    });
  }
}

/** Raised when a lookup by id finds nothing. */
export class NotFoundError extends PipelineError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} was not found.`, { context: { id } });
  }
}

/**
 * Raised by a handler when retrying cannot help (the event data is wrong or unsupported).
 * The worker dead-letters the event at once instead of backing off.
 */
export class NonRetryableError extends PipelineError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super('non_retryable', message, options);
  }
}

/** Raised by a handler that needs to wait a known time before the next attempt. */
export class RetryAfterError extends PipelineError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super('retry_after', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export function isNonRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return true;
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'NonRetryableError';
}

export function retryAfterMs(error: unknown): number | null {
  if (error instanceof RetryAfterError) return error.retryAfterMs;
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'RetryAfterError') {
    const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
  }
  return null;
}

/** Formats an error for the event record and logs: name, code and message, never a stack. */
export function describeError(error: unknown): string {
  if (error instanceof PipelineError) return `${error.name} (${error.code}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Raised when a worker reports on a job whose lease another worker has taken over. */
export class LeaseLostError extends PipelineError {
  constructor(eventId: string) {
    super('lease_lost', `The lease on event ${eventId} expired and another worker claimed it; this result was discarded.`, {
      context: { eventId },
    });
  }
}
