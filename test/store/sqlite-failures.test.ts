import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { claimJob } from '../contract/backend.js';
import { sampleDecision, sampleEvent } from '../contract/samples.js';
import { openSqliteTestBackend, type SqliteTestBackend } from './sqlite-backend.js';

/** Returns the SQLite result code behind a StoreUnavailableError. */
function sqliteCodeOf(error: unknown): string | undefined {
  if (!(error instanceof StoreUnavailableError)) return undefined;
  return error.cause instanceof Database.SqliteError ? error.cause.code : undefined;
}

describe('sqlite store failures', () => {
  let backend: SqliteTestBackend;

  beforeEach(() => {
    backend = openSqliteTestBackend();
  });

  afterEach(async () => {
    await backend.close();
  });

  describe('when a trigger aborts the insert', () => {
    beforeEach(() => {
      backend.store.database.exec(
        `CREATE TRIGGER fail_ingest AFTER INSERT ON pipeline_events
         BEGIN SELECT RAISE(ABORT, 'injected write failure'); END`,
      );
    });

    it('ingest rejects with StoreUnavailableError', async () => {
      const error: unknown = await backend.events.ingest(sampleEvent()).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(sqliteCodeOf(error)).toBe('SQLITE_CONSTRAINT_TRIGGER');
    });

    it('leaves no row behind', async () => {
      const event = sampleEvent();
      await expect(backend.events.ingest(event)).rejects.toBeInstanceOf(StoreUnavailableError);
      backend.store.database.exec('DROP TRIGGER fail_ingest');

      expect(await backend.events.get(event.id)).toBeNull();
      expect(await backend.events.list({ limit: 10 })).toEqual([]);
      expect(await backend.queue.claim({ leaseMs: 1000 })).toBeNull();
    });

    it('accepts the redelivery afterwards', async () => {
      const event = sampleEvent();
      await expect(backend.events.ingest(event)).rejects.toBeInstanceOf(StoreUnavailableError);
      backend.store.database.exec('DROP TRIGGER fail_ingest');

      expect(await backend.events.ingest(event)).toEqual({ kind: 'accepted' });
      expect((await claimJob(backend.queue, 1000)).id).toBe(event.id);
    });
  });

  describe('when another connection holds the write lock', () => {
    it('ingest rejects with SQLITE_BUSY, then recovers', async () => {
      const other = new Database(backend.filePath);
      backend.store.database.pragma('busy_timeout = 20');
      other.exec('BEGIN IMMEDIATE');
      try {
        const error: unknown = await backend.events.ingest(sampleEvent()).catch((caught: unknown) => caught);

        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(sqliteCodeOf(error)).toBe('SQLITE_BUSY');
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }

      expect(await backend.events.ingest(sampleEvent())).toEqual({ kind: 'accepted' });
    });

    it('claim rejects with SQLITE_BUSY', async () => {
      await backend.events.ingest(sampleEvent());
      const other = new Database(backend.filePath);
      backend.store.database.pragma('busy_timeout = 20');
      other.exec('BEGIN IMMEDIATE');
      try {
        const error: unknown = await backend.queue.claim({ leaseMs: 1000 }).catch((caught: unknown) => caught);

        expect(sqliteCodeOf(error)).toBe('SQLITE_BUSY');
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
    });
  });

  describe('when the database is closed', () => {
    it('every operation rejects with StoreUnavailableError', async () => {
      await backend.events.ingest(sampleEvent());
      const job = await claimJob(backend.queue, 1000);
      const lock = await backend.locks.acquire('sub_1QfakeA', 1000);
      if (lock === null) throw new Error('Expected to acquire the lock.');
      await backend.store.close();

      const operations: Record<string, Promise<unknown>> = {
        ingest: backend.events.ingest(sampleEvent()),
        get: backend.events.get(job.id),
        list: backend.events.list({ limit: 10 }),
        countByStatus: backend.events.countByStatus(),
        ping: backend.events.ping(),
        claim: backend.queue.claim({ leaseMs: 1000 }),
        extendLease: backend.queue.extendLease(job, 1000),
        complete: backend.queue.complete(job, sampleDecision()),
        listDeadLetters: backend.queue.listDeadLetters(10),
        replay: backend.queue.replay(job.id),
        acquire: backend.locks.acquire('sub_1QfakeB', 1000),
        extendLock: lock.extend(1000),
        releaseLock: lock.release(),
      };

      for (const [name, operation] of Object.entries(operations)) {
        const error: unknown = await operation.then(
          () => new Error(`${name} resolved`),
          (caught: unknown) => caught,
        );
        expect(error, name).toBeInstanceOf(StoreUnavailableError);
      }
    });

    it('close can be called twice', async () => {
      await backend.store.close();

      await expect(backend.store.close()).resolves.toBeUndefined();
    });
  });
});
