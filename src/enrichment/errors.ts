import { PipelineError } from '../errors.js';
import type { AiProviderName } from './types.js';

/**
 * Kinds of provider failure, each with its own handling:
 * - `rate_limited` (HTTP 429), `server_error` (HTTP 408 and 5xx), `timeout` and `network`: the
 *   enrichment queue may try again after a backoff.
 * - `rejected_request` (other 4xx: bad key, unknown model, invalid request): retrying cannot help,
 *   so the result is recorded as failed at once.
 * - `invalid_response`: the HTTP body was not the provider's documented envelope; the result is
 *   recorded as unavailable.
 */
export type AiProviderErrorKind = 'rate_limited' | 'server_error' | 'timeout' | 'network' | 'rejected_request' | 'invalid_response';

const RETRYABLE_KINDS: ReadonlySet<AiProviderErrorKind> = new Set(['rate_limited', 'server_error', 'timeout', 'network']);

/**
 * Raised by a provider adapter when a call fails. The message names the provider, the HTTP status
 * and the provider's error code, never the request, the reply body or the API key.
 */
export class AiProviderError extends PipelineError {
  readonly provider: AiProviderName;
  readonly kind: AiProviderErrorKind;
  readonly httpStatus: number | null;
  /** Wait the provider asked for before the next call, when it sent one. */
  readonly retryAfterMs: number | null;

  constructor(options: {
    provider: AiProviderName;
    kind: AiProviderErrorKind;
    message: string;
    httpStatus?: number | null;
    retryAfterMs?: number | null;
    cause?: unknown;
  }) {
    super(`ai_provider_${options.kind}`, options.message, {
      cause: options.cause,
      context: { provider: options.provider, httpStatus: options.httpStatus ?? null },
    });
    this.provider = options.provider;
    this.kind = options.kind;
    this.httpStatus = options.httpStatus ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }

  get retryable(): boolean {
    return RETRYABLE_KINDS.has(this.kind);
  }
}

/** Maps an HTTP status of a failed provider call to the kind of failure. */
export function kindForStatus(status: number): AiProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'server_error';
  return 'rejected_request';
}

/** Raised when enrichment is set up without something it needs (a provider key, a queue backend). */
export class EnrichmentSetupError extends PipelineError {
  constructor(message: string) {
    super('enrichment_setup_invalid', message);
  }
}
