import type Database from 'better-sqlite3';
import { createSilentLogger, type Logger } from '../../logger.js';
import { systemClock, type Clock, type EventStore, type JobQueue, type ObjectLocks } from '../ports.js';
import { openSqliteDatabase } from './database.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteJobQueue } from './job-queue.js';
import { SqliteObjectLocks } from './object-locks.js';

export { openSqliteDatabase } from './database.js';
export { SqliteEventStore } from './event-store.js';
export { SqliteJobQueue } from './job-queue.js';
export { SqliteObjectLocks } from './object-locks.js';

/** The embedded backend's storage: one SQLite file, which the ledger shares through `database`. */
export interface EmbeddedStore {
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly locks: ObjectLocks;
  /** The open better-sqlite3 connection. `close()` closes it, so other users must not. */
  readonly database: Database.Database;
  /** Closes the database. Safe to call more than once. */
  close(): Promise<void>;
}

export interface EmbeddedStoreOptions {
  /** Path of the SQLite file. A missing directory is created. */
  readonly path: string;
  /** Defaults to the system clock. */
  readonly clock?: Clock | undefined;
  /** Defaults to a logger that drops everything. */
  readonly logger?: Logger | undefined;
}

/**
 * Opens the embedded event store, job queue and object locks on one SQLite file, creating the
 * file and its tables when missing. Throws StoreUnavailableError when the file cannot be opened.
 */
export function openEmbeddedStore(options: EmbeddedStoreOptions): EmbeddedStore {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createSilentLogger();
  const database = openSqliteDatabase(options.path);
  const dependencies = { clock, logger };

  let stores: Pick<EmbeddedStore, 'events' | 'queue' | 'locks'>;
  try {
    stores = {
      events: new SqliteEventStore(database, dependencies),
      queue: new SqliteJobQueue(database, dependencies),
      locks: new SqliteObjectLocks(database, dependencies),
    };
  } catch (error) {
    // Preparing a statement failed (for example on a table altered by hand), so close the handle.
    database.close();
    throw error;
  }

  return {
    ...stores,
    database,
    close(): Promise<void> {
      if (database.open) database.close();
      return Promise.resolve();
    },
  };
}
