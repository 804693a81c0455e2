import { PipelineError } from '../errors.js';

/** Raised when a handler runs past HANDLER_TIMEOUT_MS; the attempt counts as failed and is retried. */
export class HandlerTimeoutError extends PipelineError {
  constructor(timeoutMs: number) {
    super('handler_timeout', `The handler did not finish within ${timeoutMs} ms.`, { context: { timeoutMs } });
  }
}

/**
 * Rejects with HandlerTimeoutError when `work` takes longer than `timeoutMs`. The work itself is
 * not cancelled: a ledger transaction that commits late is harmless, because the retry finds its
 * "event applied" marker and changes nothing.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
