import type Database from 'better-sqlite3';
import { SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import type { SqliteGate } from '../store/sqlite/gate.js';

/**
 * Kysely's SQLite driver holding a shared gate from the moment it hands out its connection until
 * the connection is released. A transaction keeps the connection for its whole duration, so no
 * other user of the same better-sqlite3 handle can write in the middle of it.
 */
class GatedSqliteDriver extends SqliteDriver {
  private readonly gate: SqliteGate;
  private releaseGate: (() => void) | null = null;

  constructor(database: Database.Database, gate: SqliteGate) {
    super({ database });
    this.gate = gate;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.gate.acquire();
    try {
      const connection = await super.acquireConnection();
      this.releaseGate = release;
      return connection;
    } catch (error) {
      release();
      throw error;
    }
  }

  override async releaseConnection(): Promise<void> {
    const release = this.releaseGate;
    this.releaseGate = null;
    try {
      await super.releaseConnection();
    } finally {
      release?.();
    }
  }

  /** The store owns the handle and closes it; the ledger must not. */
  override async destroy(): Promise<void> {
    // Intentionally empty: closing here would close the event store's database too.
  }
}

/** SQLite dialect for a ledger that shares its better-sqlite3 handle with the event store. */
export class SharedSqliteDialect extends SqliteDialect {
  private readonly database: Database.Database;
  private readonly gate: SqliteGate;

  constructor(database: Database.Database, gate: SqliteGate) {
    super({ database });
    this.database = database;
    this.gate = gate;
  }

  override createDriver(): Driver {
    return new GatedSqliteDriver(this.database, this.gate);
  }
}
