import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEnrichmentQueue } from '../../src/enrichment/queue/sqlite-queue.js';
import { enrichmentQueueContract, request } from './support/queue-contract.js';

let directory: string;
let database: Database.Database;
let fileNumber = 0;

beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'enrichment-sqlite-queue-'));
});
afterAll(() => {
  database.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

enrichmentQueueContract('SQLite', () => {
  // A new file per test, so no job leaks from one test into the next.
  database?.close();
  fileNumber += 1;
  database = new Database(path.join(directory, `queue-${fileNumber}.db`));
  return Promise.resolve(new SqliteEnrichmentQueue(database));
});

describe('SQLite enrichment queue', () => {
  it('creates its table idempotently in the shared database', () => {
    const shared = new Database(path.join(directory, 'shared.db'));
    try {
      const first = new SqliteEnrichmentQueue(shared);
      const second = new SqliteEnrichmentQueue(shared);
      expect(first).not.toBe(second);
      const table = shared.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pipeline_enrichment_jobs'").get();
      expect(table).toEqual({ name: 'pipeline_enrichment_jobs' });
    } finally {
      shared.close();
    }
  });

  it('reclaims a job after lease expiry', async () => {
    const shared = new Database(path.join(directory, 'lease.db'));
    let now = 1_790_000_000_000;
    const queue = new SqliteEnrichmentQueue(shared, { clock: () => now });
    try {
      await queue.enqueue(request('evt_1SqliteLease0001'));
      const first = await queue.claim({ leaseMs: 10_000 });

      now += 9_999;
      expect(await queue.claim({ leaseMs: 10_000 })).toBeNull();
      now += 1;
      const second = await queue.claim({ leaseMs: 10_000 });

      expect(second).toMatchObject({ eventId: 'evt_1SqliteLease0001', attempt: 2 });
      expect(second?.leaseToken).not.toBe(first?.leaseToken);
    } finally {
      shared.close();
    }
  });
});
