import { isNonRetryable, retryAfterMs } from '../errors.js';

export interface BackoffOptions {
  /** Delay after the first failed attempt, in milliseconds. */
  readonly baseMs: number;
  /** Maximum delay between two attempts, in milliseconds. Jitter never exceeds it. */
  readonly maxMs: number;
  /** Source of uniform numbers in [0, 1), by default Math.random. Inject one for exact tests. */
  readonly random?: (() => number) | undefined;
}

/** Spread of the jitter around the exponential delay: ±20 %. */
const JITTER_RATIO = 0.2;

/**
 * Computes the delay before the next attempt after attempt `attempt` (1-based) failed: `baseMs`
 * doubled per attempt (attempt 1 → base, 2 → 2 × base, 3 → 4 × base …), capped at `maxMs`.
 *
 * The jitter is proportional and symmetric: the delay is drawn uniformly from ±20 % around the
 * capped exponential value, then capped at `maxMs` again. Below the cap the expected delay equals
 * the exponential schedule, while workers that failed together still spread out instead of
 * retrying at the same instant.
 */
export function retryDelayMs(attempt: number, options: BackoffOptions): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt should be a whole number of at least 1, got ${attempt}`);
  }
  if (!Number.isFinite(options.baseMs) || options.baseMs <= 0) {
    throw new RangeError(`baseMs should be a positive number of milliseconds, got ${options.baseMs}`);
  }
  if (!Number.isFinite(options.maxMs) || options.maxMs < options.baseMs) {
    throw new RangeError(`maxMs should be at least baseMs (${options.baseMs}), got ${options.maxMs}`);
  }

  const draw = (options.random ?? Math.random)();
  if (!(draw >= 0 && draw < 1)) {
    throw new RangeError(`random() should return a number in [0, 1), got ${draw}`);
  }

  // For large attempts the power overflows to Infinity, which the cap turns into maxMs.
  const exponential = Math.min(options.baseMs * 2 ** (attempt - 1), options.maxMs);
  const jittered = exponential * (1 - JITTER_RATIO + 2 * JITTER_RATIO * draw);
  return Math.round(Math.min(jittered, options.maxMs));
}

export type RetryPlan =
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'dead_letter'; readonly reason: 'non_retryable' | 'retries_exhausted' };

export interface RetryInput {
  /** Error thrown by the failed attempt. */
  readonly error: unknown;
  /** Number of the attempt that failed, starting at 1. */
  readonly attempt: number;
  /** Retries allowed after the first attempt, so attempt `maxRetries + 1` is the last one. */
  readonly maxRetries: number;
}

/** Chooses between a retry (with its delay) and the dead-letter list after a failed attempt. */
export function shouldRetry(input: RetryInput, backoff: BackoffOptions): RetryPlan {
  // A non-retryable error means the data is bad or unsupported, so the event is dead-lettered at once.
  if (isNonRetryable(input.error)) return { kind: 'dead_letter', reason: 'non_retryable' };

  // Retries are bounded, so a poison event ends in the dead-letter list instead of looping.
  if (input.attempt > input.maxRetries) return { kind: 'dead_letter', reason: 'retries_exhausted' };

  // A retry-after error carries the delay a handler requested (after a rate limit or a Retry-After
  // header). It is still capped, so one response cannot park an event for days.
  const requested = retryAfterMs(input.error);
  if (requested !== null) return { kind: 'retry', delayMs: Math.min(Math.round(requested), backoff.maxMs) };

  return { kind: 'retry', delayMs: retryDelayMs(input.attempt, backoff) };
}
