import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '../../src/logger.js';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/store/sqlite/index.js';
import type { ContractBackend } from '../contract/backend.js';
import { ManualClock } from '../support/manual-clock.js';

export interface SqliteTestBackend extends ContractBackend {
  readonly clock: ManualClock;
  readonly store: EmbeddedStore;
  readonly filePath: string;
}

/** Opens an embedded store on a new SQLite file in its own temporary directory, on manual time. */
export function openSqliteTestBackend(): SqliteTestBackend {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-sqlite-'));
  const filePath = path.join(directory, 'pipeline.db');
  const clock = new ManualClock();
  const store = openEmbeddedStore({ path: filePath, clock: clock.now, logger: createSilentLogger() });

  return {
    events: store.events,
    queue: store.queue,
    locks: store.locks,
    clock,
    usesRealTime: false,
    store,
    filePath,
    sleepOrAdvance(ms: number): Promise<void> {
      clock.advance(ms);
      return Promise.resolve();
    },
    async close(): Promise<void> {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
