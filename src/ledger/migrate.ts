import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { PipelineError } from '../errors.js';
import { ledgerMigrations } from './migrations/index.js';
import type { LedgerDatabase } from './schema.js';

/**
 * Names of Kysely's bookkeeping tables for the ledger. They differ from Kysely's defaults so the
 * ledger's migrations never mix with those of another component that shares the database file.
 */
const MIGRATION_TABLE = 'ledger_migration';
const MIGRATION_LOCK_TABLE = 'ledger_migration_lock';

export interface LedgerMigrationOptions {
  /**
   * PostgreSQL schema of the bookkeeping tables. Set it when the ledger lives in a schema other
   * than `public`; the search path decides where the ledger tables go. Unused on SQLite.
   */
  readonly migrationTableSchema?: string;
}

/** Raised when a ledger migration fails; the failed migration's name is in the message. */
export class LedgerMigrationError extends PipelineError {
  constructor(migrationName: string, cause: unknown) {
    super('ledger_migration_failed', `Ledger migration "${migrationName}" failed; the database is left at the migration before it.`, {
      cause,
      context: { migrationName },
    });
  }
}

function createMigrator(db: Kysely<LedgerDatabase>, options: LedgerMigrationOptions): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(ledgerMigrations) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(options.migrationTableSchema === undefined ? {} : { migrationTableSchema: options.migrationTableSchema }),
  });
}

/** Runs every pending ledger migration, in name order. */
export async function migrateLedger(db: Kysely<LedgerDatabase>, options: LedgerMigrationOptions = {}): Promise<void> {
  const { error, results } = await createMigrator(db, options).migrateToLatest();
  if (error === undefined) return;
  const failed = (results ?? []).find((result: MigrationResult) => result.status === 'Error');
  throw new LedgerMigrationError(failed?.migrationName ?? 'unknown', error);
}

/** Names of the ledger migrations not yet applied, in the order they would run. */
export async function pendingLedgerMigrations(db: Kysely<LedgerDatabase>, options: LedgerMigrationOptions = {}): Promise<string[]> {
  const migrations = await createMigrator(db, options).getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}
