/** True for the errors `fetch` and the SDKs raise when an AbortSignal cancels a request. */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'AbortError' || name === 'APIUserAbortError' || name === 'TimeoutError';
}

/**
 * Describes a network failure by error name and system code (such as `ECONNREFUSED`), without the
 * request URL or headers, which may carry a key.
 */
export function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  // Node's fetch wraps the socket error (ECONNREFUSED, ETIMEDOUT …) one or two causes deep.
  let cause: unknown = error.cause;
  let innermost: string | null = null;
  for (let depth = 0; depth < 4 && typeof cause === 'object' && cause !== null; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return `${error.name} (${code})`;
    if (cause instanceof Error) innermost = cause.message;
    const errors = (cause as { errors?: unknown }).errors;
    cause = Array.isArray(errors) && errors.length > 0 ? errors[0] : (cause as { cause?: unknown }).cause;
  }
  return innermost === null ? error.name : `${error.name} (${innermost})`;
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds; null when absent or invalid. */
export function retryAfterHeaderMs(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
