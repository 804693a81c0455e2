import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/logger.js';
import { openSqliteDatabase } from '../../src/store/sqlite/database.js';
import { openEmbeddedStore } from '../../src/store/sqlite/index.js';
import { claimJob } from '../contract/backend.js';
import { sampleDecision, sampleEvent } from '../contract/samples.js';
import { openSqliteTestBackend, type SqliteTestBackend } from './sqlite-backend.js';

describe('sqlite store files', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-sqlite-file-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates missing parent directories', () => {
    const filePath = path.join(directory, 'nested', 'data', 'pipeline.db');

    const database = openSqliteDatabase(filePath);
    database.close();

    const reopened = new Database(filePath, { fileMustExist: true });
    expect(reopened.prepare("SELECT count(*) AS count FROM sqlite_master WHERE name = 'pipeline_events'").get()).toEqual({ count: 1 });
    reopened.close();
  });

  it('sets WAL, FULL sync and a busy timeout', () => {
    const database = openSqliteDatabase(path.join(directory, 'pipeline.db'));

    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    expect(database.pragma('busy_timeout', { simple: true })).toBe(250);
    database.close();
  });

  it('prefixes every table with pipeline_', () => {
    const database = openSqliteDatabase(path.join(directory, 'pipeline.db'));

    const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();

    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) expect(table).toMatch(/^pipeline_/);
    database.close();
  });

  it('opens an existing file again', () => {
    const filePath = path.join(directory, 'pipeline.db');
    openSqliteDatabase(filePath).close();

    const database = openSqliteDatabase(filePath);

    expect(database.open).toBe(true);
    database.close();
  });

  it('rejects a path below a regular file', () => {
    const blocker = path.join(directory, 'not-a-directory');
    writeFileSync(blocker, 'x');

    expect(() => openSqliteDatabase(path.join(blocker, 'pipeline.db'))).toThrow(StoreUnavailableError);
  });
});

describe('sqlite store after a restart', () => {
  let backend: SqliteTestBackend;

  beforeEach(() => {
    backend = openSqliteTestBackend();
  });

  afterEach(async () => {
    await backend.close();
  });

  it('keeps every event and job', async () => {
    const { events, queue, clock } = backend;
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const event = sampleEvent({ account: index === 0 ? 'acct_1QfakeCoNNectAcc' : null });
      ids.push(event.id);
      await events.ingest(event);
      clock.advance(1000);
    }
    await queue.complete(await claimJob(queue, 60_000), sampleDecision());
    await queue.retry(await claimJob(queue, 60_000), { error: 'Error: timeout', delayMs: 10_000, decision: sampleDecision() });
    await queue.deadLetter(await claimJob(queue, 60_000), { error: 'Error: poison', decision: null });
    const held = await claimJob(queue, 60_000);
    const lock = await backend.locks.acquire('sub_1QfakeA', 60_000);
    expect(lock).not.toBeNull();
    const before = await Promise.all(ids.map((id) => events.get(id)));
    const countsBefore = await events.countByStatus();

    await backend.store.close();
    const reopened = openEmbeddedStore({ path: backend.filePath, clock: clock.now, logger: createSilentLogger() });
    try {
      expect(await Promise.all(ids.map((id) => reopened.events.get(id)))).toEqual(before);
      expect(await reopened.events.countByStatus()).toEqual(countsBefore);
      expect(await reopened.locks.acquire('sub_1QfakeA', 60_000)).toBeNull();

      // The queued event is due now. The held job is due after its lease, the retry after its delay.
      expect((await claimJob(reopened.queue, 120_000)).id).toBe(ids[4]);
      expect(await reopened.queue.claim({ leaseMs: 60_000 })).toBeNull();
      clock.advance(60_000);
      const resumed = [await claimJob(reopened.queue, 60_000), await claimJob(reopened.queue, 60_000)];
      expect(resumed.map((job) => job.id)).toEqual([ids[1], held.id]);
      expect(resumed.map((job) => job.attempt)).toEqual([2, 2]);
    } finally {
      await reopened.close();
    }
  });

  it('reads an unreadable decision as null', async () => {
    const event = sampleEvent();
    await backend.events.ingest(event);
    await backend.queue.complete(await claimJob(backend.queue, 60_000), sampleDecision());
    backend.store.database.prepare("UPDATE pipeline_events SET decision = '{\"action\":\"launch_rocket\"}' WHERE id = ?").run(event.id);

    const record = await backend.events.get(event.id);

    expect(record?.status).toBe('processed');
    expect(record?.decision).toBeNull();
  });

  it('rejects a negative list limit', async () => {
    await expect(backend.events.list({ limit: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(backend.queue.listDeadLetters(1.5)).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects a non-positive lease', async () => {
    await backend.events.ingest(sampleEvent());

    await expect(backend.queue.claim({ leaseMs: 0 })).rejects.toBeInstanceOf(RangeError);
    expect((await claimJob(backend.queue, 1000)).attempt).toBe(1);
  });
});
