import { describe, expect, it } from 'vitest';
import { NonRetryableError, RetryAfterError } from '../../src/errors.js';
import { retryDelayMs, shouldRetry } from '../../src/worker/backoff.js';

const defaults = { baseMs: 2000, maxMs: 3_600_000 };
const middle = (): number => 0.5;

describe('retryDelayMs', () => {
  it('doubles the delay per attempt', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, { ...defaults, random: middle }));
    expect(delays).toEqual([2000, 4000, 8000, 16_000, 32_000]);
  });

  it('caps the delay at maxMs', () => {
    expect(retryDelayMs(20, { ...defaults, random: middle })).toBe(3_600_000);
    expect(retryDelayMs(5000, { ...defaults, random: middle })).toBe(3_600_000);
  });

  it('spreads the delay by 20 % each way', () => {
    expect(retryDelayMs(1, { ...defaults, random: () => 0 })).toBe(1600);
    expect(retryDelayMs(1, { ...defaults, random: () => 0.999_999 })).toBe(2400);
    expect(retryDelayMs(3, { ...defaults, random: () => 0.25 })).toBe(7200);
  });

  it('never exceeds maxMs after jitter', () => {
    expect(retryDelayMs(30, { ...defaults, random: () => 0.999_999 })).toBe(3_600_000);
    expect(retryDelayMs(30, { ...defaults, random: () => 0 })).toBe(2_880_000);
  });

  it('averages the exponential schedule', () => {
    let seed = 42;
    // A small linear congruential generator keeps this test deterministic.
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const samples = Array.from({ length: 2000 }, () => retryDelayMs(2, { ...defaults, random }));
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(3200);
    expect(Math.max(...samples)).toBeLessThanOrEqual(4800);
    expect(mean).toBeGreaterThan(3900);
    expect(mean).toBeLessThan(4100);
  });

  it('rejects invalid arguments', () => {
    expect(() => retryDelayMs(0, defaults)).toThrow(RangeError);
    expect(() => retryDelayMs(1.5, defaults)).toThrow(RangeError);
    expect(() => retryDelayMs(1, { baseMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => retryDelayMs(1, { baseMs: 100, maxMs: 50 })).toThrow(/maxMs should be at least baseMs/);
    expect(() => retryDelayMs(1, { ...defaults, random: () => 1 })).toThrow(/random\(\) should return/);
  });
});

describe('shouldRetry', () => {
  const backoff = { ...defaults, random: middle };

  it('retries a plain error with backoff', () => {
    const plan = shouldRetry({ error: new Error('connection reset'), attempt: 2, maxRetries: 5 }, backoff);
    expect(plan).toEqual({ kind: 'retry', delayMs: 4000 });
  });

  it('dead-letters a non-retryable error at once', () => {
    const plan = shouldRetry({ error: new NonRetryableError('unsupported currency'), attempt: 1, maxRetries: 5 }, backoff);
    expect(plan).toEqual({ kind: 'dead_letter', reason: 'non_retryable' });
  });

  it('recognises a deserialised non-retryable error', () => {
    const plain = { name: 'NonRetryableError', message: 'unsupported currency' };
    expect(shouldRetry({ error: plain, attempt: 1, maxRetries: 5 }, backoff).kind).toBe('dead_letter');
  });

  it('retries until attempt maxRetries + 1', () => {
    const error = new Error('timeout');
    expect(shouldRetry({ error, attempt: 5, maxRetries: 5 }, backoff).kind).toBe('retry');
    expect(shouldRetry({ error, attempt: 6, maxRetries: 5 }, backoff)).toEqual({ kind: 'dead_letter', reason: 'retries_exhausted' });
    expect(shouldRetry({ error, attempt: 1, maxRetries: 0 }, backoff).kind).toBe('dead_letter');
  });

  it('uses the delay of a retry-after error', () => {
    const plan = shouldRetry({ error: new RetryAfterError('rate limited', 15_000), attempt: 1, maxRetries: 5 }, backoff);
    expect(plan).toEqual({ kind: 'retry', delayMs: 15_000 });
  });

  it('caps a retry-after delay at maxMs', () => {
    const plan = shouldRetry({ error: new RetryAfterError('come back tomorrow', 86_400_000), attempt: 1, maxRetries: 5 }, backoff);
    expect(plan).toEqual({ kind: 'retry', delayMs: 3_600_000 });
  });

  it('dead-letters exhausted retries despite retry-after', () => {
    const plan = shouldRetry({ error: new RetryAfterError('rate limited', 1000), attempt: 6, maxRetries: 5 }, backoff);
    expect(plan.kind).toBe('dead_letter');
  });
});
