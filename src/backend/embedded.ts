import { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { describeError } from '../errors.js';
import { migrateLedger } from '../ledger/migrate.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import { SharedSqliteDialect } from '../ledger/sqlite-dialect.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../store/ports.js';
import { SqliteGate } from '../store/sqlite/gate.js';
import { gateEventStore, gateJobQueue, gateObjectLocks } from '../store/sqlite/gated-ports.js';
import { openEmbeddedStore } from '../store/sqlite/index.js';
import { pruneSqliteStore } from '../store/sqlite/retention.js';
import { systemClock } from '../store/ports.js';
import type { Backend, ReadinessChecks } from './types.js';

/**
 * Opens the embedded backend: event store, queue, locks and ledger in one SQLite file, migrated
 * to the latest ledger schema.
 */
export async function openEmbeddedBackend(options: {
  config: Config;
  logger: Logger;
  clock?: Clock;
  sqlitePath?: string;
}): Promise<Backend> {
  const path = options.sqlitePath ?? options.config.storage.sqlitePath;
  const store = openEmbeddedStore({ path, logger: options.logger, ...(options.clock ? { clock: options.clock } : {}) });
  // The store and the ledger share one handle, so every use of it takes the same gate.
  const gate = new SqliteGate();
  const ledger = new Kysely<LedgerDatabase>({ dialect: new SharedSqliteDialect(store.database, gate) });
  const events = gateEventStore(store.events, gate);
  try {
    await migrateLedger(ledger);
  } catch (error) {
    await store.close();
    throw error;
  }
  options.logger.debug({ path }, 'embedded backend opened');

  return {
    kind: 'embedded',
    sqlite: { database: store.database, gate },
    events,
    queue: gateJobQueue(store.queue, gate),
    locks: gateObjectLocks(store.locks, gate),
    ledger,
    async runMaintenance() {
      const now = (options.clock ?? systemClock)();
      const retentionMs = options.config.storage.eventRetentionDays * 86_400_000;
      const pruned = await gate.run(() => pruneSqliteStore(store.database, { cutoffMs: now - retentionMs, nowMs: now }));
      if (pruned.events > 0) options.logger.info({ prunedEvents: pruned.events, prunedLocks: pruned.locks }, 'old processed events pruned');
      return { prunedEvents: pruned.events };
    },
    async readiness(): Promise<ReadinessChecks> {
      try {
        await events.ping();
        return { sqlite: { ok: true } };
      } catch (error) {
        return { sqlite: { ok: false, detail: describeError(error) } };
      }
    },
    async close(): Promise<void> {
      // Waits for a ledger transaction in flight; the shared dialect leaves the handle to the store.
      await ledger.destroy();
      await gate.run(() => store.close());
    },
  };
}
