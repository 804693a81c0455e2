import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Logger } from '../../logger.js';
import type { Clock, LockHandle, ObjectLocks } from '../ports.js';
import { assertMilliseconds } from './arguments.js';
import { guardSqlite } from './store-errors.js';

interface LockParams {
  readonly key: string;
  readonly token: string;
}

interface LockStatements {
  readonly acquire: Database.Statement<[LockParams & { now: number; expiresAt: number }]>;
  readonly extend: Database.Statement<[LockParams & { expiresAt: number }]>;
  readonly release: Database.Statement<[LockParams]>;
}

interface LockContext {
  readonly database: Database.Database;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly statements: LockStatements;
}

/**
 * Object locks of the embedded backend: one `pipeline_locks` row per held key, with a random
 * token that only its holder has. An expired row stays until the next acquire of the same key
 * takes it over, so a holder whose lock expired can still extend or release it while nobody else
 * has taken it.
 *
 * NOTE: rows of holders that died are removed only when their key is acquired again; keys that are
 * never used again stay in the table (one small row each).
 */
export class SqliteObjectLocks implements ObjectLocks {
  private readonly context: LockContext;

  constructor(database: Database.Database, options: { clock: Clock; logger: Logger }) {
    this.context = {
      database,
      clock: options.clock,
      logger: options.logger,
      statements: {
        // The conflict branch updates only an expired row, so a live lock is never taken over.
        acquire: database.prepare(
          `INSERT INTO pipeline_locks (key, token, expires_at) VALUES (@key, @token, @expiresAt)
           ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
           WHERE pipeline_locks.expires_at <= @now`,
        ),
        extend: database.prepare('UPDATE pipeline_locks SET expires_at = @expiresAt WHERE key = @key AND token = @token'),
        release: database.prepare('DELETE FROM pipeline_locks WHERE key = @key AND token = @token'),
      },
    };
  }

  acquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const { database, clock, logger, statements } = this.context;
    return guardSqlite(database, logger, 'acquire an object lock', { lockKey: key }, () => {
      assertMilliseconds('ttlMs', ttlMs, 1);
      const token = randomUUID();
      const now = clock();
      const result = statements.acquire.run({ key, token, now, expiresAt: now + ttlMs });
      return result.changes === 1 ? new SqliteLockHandle(this.context, key, token) : null;
    });
  }
}

class SqliteLockHandle implements LockHandle {
  readonly key: string;
  private readonly context: LockContext;
  private readonly token: string;

  constructor(context: LockContext, key: string, token: string) {
    this.context = context;
    this.key = key;
    this.token = token;
  }

  extend(ttlMs: number): Promise<boolean> {
    const { database, clock, logger, statements } = this.context;
    return guardSqlite(database, logger, 'extend an object lock', { lockKey: this.key }, () => {
      assertMilliseconds('ttlMs', ttlMs, 1);
      const result = statements.extend.run({ key: this.key, token: this.token, expiresAt: clock() + ttlMs });
      return result.changes === 1;
    });
  }

  release(): Promise<void> {
    const { database, logger, statements } = this.context;
    return guardSqlite(database, logger, 'release an object lock', { lockKey: this.key }, () => {
      statements.release.run({ key: this.key, token: this.token });
    });
  }
}
