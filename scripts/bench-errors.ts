import { PipelineError } from '../src/errors.js';

/**
 * Raised when a benchmark cannot produce a valid figure: a process did not start, a request
 * failed or got an unexpected response, or the worker did not finish the events in time.
 * `npm run bench` exits 1 on it; a slow result is a figure, never this error.
 */
export class BenchError extends PipelineError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super('bench_failed', message, options);
  }
}
