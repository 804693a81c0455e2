import { Redis } from 'ioredis';
import { describeError, PipelineError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { RedisUnavailableError, type RedisConnectionWatch } from './failures.js';

export interface CommandClientOptions {
  /** A command without a reply after this long fails, so ingest rejects instead of hanging. */
  readonly commandTimeoutMs: number;
  /** Name shown by `CLIENT LIST`, to tell the pipeline's connections apart. */
  readonly connectionName: string;
}

/**
 * Creates the client for the store's own commands, BullMQ's producer side and the locks. It fails
 * fast while Redis is away: no offline queue (a command sent while disconnected rejects at once),
 * no re-send after a reconnect (a command may have run, and the caller decides what to do), and
 * a command timeout. It reconnects on its own in the background.
 */
export function createCommandClient(url: string, options: CommandClientOptions): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1000),
    connectionName: options.connectionName,
    // Reconnect quickly after an outage so ingest recovers within about a second of Redis.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
}

/**
 * Creates the client that BullMQ's Worker uses on the claiming side. BullMQ requires
 * `maxRetriesPerRequest: null` for a worker, whose commands wait for a reconnect instead of
 * failing; the worker loop is not latency-bound the way ingest is.
 */
export function createWorkerClient(url: string, connectionName: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

/** Returns `host:port/db` of a Redis URL without the user name or password, for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const database = parsed.pathname.length > 1 ? parsed.pathname : '';
    return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}${database}`;
  } catch {
    return '(an invalid Redis URL)';
  }
}

/** The logger and connection watch a guarded operation reports its failures with. */
export interface RedisGuardScope {
  readonly logger: Logger;
  readonly connection: RedisConnectionWatch;
}

/**
 * Runs a Redis operation and turns any failure of Redis itself (connection refused or lost, a
 * command timeout, OOM, READONLY, LOADING, MISCONF …) into RedisUnavailableError, a
 * StoreUnavailableError whose message names Redis, its address and the reason. The HTTP layer then
 * returns 503 and Stripe retries. The client's own error goes to the log and to `cause`. The
 * pipeline's own errors and argument errors (RangeError) pass through unchanged.
 *
 * After a timeout or a dropped connection the command may still have run, so the message states
 * only that the request did not complete.
 */
export async function guardRedis<T>(
  scope: RedisGuardScope,
  action: string,
  context: Readonly<Record<string, string | number>>,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof PipelineError || error instanceof RangeError) throw error;
    const { target } = scope.connection;
    const reason = scope.connection.reasonFor(error);
    scope.logger.error({ ...context, action, redis: target, reason, err: describeError(error) }, 'redis store operation failed');
    throw new RedisUnavailableError(`The request to ${action} on Redis at ${target} did not complete: ${reason}. Retry once Redis responds again.`, {
      target,
      reason,
      cause: error,
      context,
    });
  }
}

/**
 * Returns a listener that logs errors at most once per `intervalMs`, with the number suppressed
 * since the last line. A client reconnecting to a Redis that is down emits an error per attempt.
 */
export function reportErrorsEvery(logger: Logger, message: string, intervalMs: number): (error: unknown) => void {
  let lastLoggedAt = 0;
  let suppressed = 0;
  return (error) => {
    const now = Date.now();
    if (now - lastLoggedAt < intervalMs) {
      suppressed++;
      return;
    }
    logger.error({ err: describeError(error), suppressed }, message);
    lastLoggedAt = now;
    suppressed = 0;
  };
}
