import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';

/*
 * Plain descriptions of Redis failures. ioredis reports most of them in its own words ("Stream
 * isn't writeable and enableOfflineQueue options is false", "Connection is closed."), which name
 * neither Redis, its address nor the cause. These helpers turn them into a short reason such as
 * "connection refused", and keep the client's text for the log.
 */

/** Reasons for node's socket error codes, as the messages show them. */
const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection closed',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Starts of the messages ioredis rejects a command with when no connection is open and the offline queue is off. */
const NOT_CONNECTED_MESSAGES = ["Stream isn't writeable", 'Command cannot be queued during a connection handoff', 'Connection is closed.'];

const NOT_CONNECTED = 'not connected';
const UNEXPECTED = 'unexpected error (see the log)';

/**
 * Follows one client's connection, so that a later "not connected" error can name what broke the
 * connection (refused, timed out, closed). ioredis reports that cause only through its `error`
 * event, not through the rejected command.
 */
export class RedisConnectionWatch {
  /** `host:port/db` of the server, without user name or password. */
  readonly target: string;
  private lastProblem: string | null = null;

  constructor(redis: Redis, target: string) {
    this.target = target;
    redis.on('error', (error: unknown) => {
      this.lastProblem = reasonOf(error) ?? this.lastProblem;
    });
    // A server that stops closes the socket without an error; a failed reconnect then adds one.
    redis.on('close', () => {
      this.lastProblem ??= 'connection closed';
    });
    redis.on('ready', () => {
      this.lastProblem = null;
    });
  }

  /** Returns the reason for a failed request in plain words, such as "connection refused" or "timed out". */
  reasonFor(error: unknown): string {
    if (isNotConnected(error)) return this.lastProblem ?? NOT_CONNECTED;
    return redisFailureReason(error);
  }
}

/**
 * Returns the reason for a failed request in plain words, for a client without a
 * RedisConnectionWatch; a "not connected" error then cannot name its cause.
 */
export function redisFailureReason(error: unknown): string {
  if (isNotConnected(error)) return NOT_CONNECTED;
  return reasonOf(error) ?? UNEXPECTED;
}

/**
 * Raised when Redis fails a request of the store or the connection to it. The message names
 * Redis, its address and the reason in plain words, never the client's own error text (that stays
 * in `cause` and in the log), so HTTP responses may show it.
 */
export class RedisUnavailableError extends StoreUnavailableError {
  /** `host:port/db` of the server, without user name or password. */
  readonly target: string;
  /** The reason in plain words, such as "connection refused". */
  readonly reason: string;

  constructor(message: string, options: { target: string; reason: string; cause: unknown; context?: Record<string, unknown> }) {
    super(message, { cause: options.cause, context: { ...options.context, redis: options.target, reason: options.reason } });
    this.target = options.target;
    this.reason = options.reason;
  }
}

/**
 * Connects a client created with `lazyConnect`. On failure the client is disconnected (so it stops
 * reconnecting) and RedisUnavailableError names the address, the reason and the fix.
 */
export async function connectRedis(redis: Redis, watch: RedisConnectionWatch): Promise<void> {
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = watch.reasonFor(error);
    throw new RedisUnavailableError(`Connecting to Redis at ${watch.target} failed: ${reason}. ${connectionFix(reason)}`, {
      target: watch.target,
      reason,
      cause: error,
    });
  }
}

/** Returns the plain sentence `/readyz` shows for a failed PING. */
export function pingFailureDetail(watch: RedisConnectionWatch, error: unknown): string {
  return `Redis at ${watch.target} did not answer PING: ${watch.reasonFor(error)}.`;
}

/** Returns what an operator should do about a failed connection, by its reason. */
export function connectionFix(reason: string): string {
  switch (reason) {
    case 'connection refused':
      return 'Start Redis, or correct the host and port in REDIS_URL.';
    case 'host not found':
      return 'Correct the host name in REDIS_URL.';
    case 'authentication failed':
      return 'Correct the user name and password in REDIS_URL.';
    case 'timed out':
    case 'host unreachable':
    case 'network unreachable':
      return 'Check that this machine can reach Redis (network, firewall), or correct REDIS_URL.';
    default:
      return 'Check that Redis runs and REDIS_URL points to it.';
  }
}

function isNotConnected(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // With maxRetriesPerRequest 0, a command whose connection dropped is rejected with this error.
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return NOT_CONNECTED_MESSAGES.some((message) => error.message.startsWith(message));
}

/** Returns the plain reason for a socket, timeout or server error; null for any other error. */
function reasonOf(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && SOCKET_REASONS[code] !== undefined) return SOCKET_REASONS[code];
  if (error.message.startsWith('Command timed out')) return 'timed out';
  if (/\b(NOAUTH|WRONGPASS)\b/.test(error.message)) return 'authentication failed';
  if (error.name === 'ReplyError') {
    // Redis starts each error reply with a code word such as OOM, READONLY, LOADING or MISCONF.
    const word = /^[A-Z]+/.exec(error.message)?.[0];
    return word === undefined ? 'command rejected' : `command rejected (${word})`;
  }
  return null;
}
