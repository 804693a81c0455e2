import Database from 'better-sqlite3';
import { describeError, StoreUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/**
 * Runs a synchronous better-sqlite3 operation and settles a promise with its result, so every
 * error reaches the caller as a rejection. SQLite failures (SQLITE_BUSY after the busy timeout,
 * I/O errors, a trigger or constraint that aborts the write, a closed database) become
 * StoreUnavailableError with the original error as its cause, so ingest responds with 503 and
 * Stripe retries. The pipeline's own errors (InvalidTransitionError, LeaseLostError, …) and programming
 * errors pass through unchanged.
 */
export function guardSqlite<T>(
  database: Database.Database,
  logger: Logger,
  action: string,
  context: Readonly<Record<string, string | number>>,
  operation: () => T,
): Promise<T> {
  try {
    return Promise.resolve(operation());
  } catch (error) {
    if (!isSqliteFailure(database, error)) return Promise.reject(asError(error));
    const sqliteCode = error instanceof Database.SqliteError ? error.code : 'database_closed';
    logger.error({ ...context, action, sqliteCode, err: describeError(error) }, 'sqlite store operation failed');
    return Promise.reject(
      new StoreUnavailableError(`The SQLite store failed to ${action} (${sqliteCode}); check the database file and disk, then retry.`, {
        cause: error,
        context: { ...context, sqliteCode },
      }),
    );
  }
}

function isSqliteFailure(database: Database.Database, error: unknown): boolean {
  if (error instanceof Database.SqliteError) return true;
  // better-sqlite3 raises a plain TypeError for any call on a closed connection.
  return error instanceof TypeError && !database.open;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
