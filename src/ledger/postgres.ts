import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describeError, PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LedgerMigrationOptions } from './migrate.js';
import type { LedgerDatabase } from './schema.js';

export interface PostgresLedgerOptions {
  /** `postgres://` or `postgresql://` URL; never logged with its credentials. */
  readonly url: string;
  /**
   * Schema that contains the ledger tables, set as the connections' `search_path`. When absent the
   * server's search path applies (usually `public`). An `options` parameter in the URL takes precedence.
   */
  readonly schema?: string | undefined;
  readonly logger: Logger;
  /** Connections in the pool; default 10. */
  readonly maxConnections?: number | undefined;
  /** Time to wait for a connection before a query fails; default 5000 ms. */
  readonly connectionTimeoutMs?: number | undefined;
}

/** Raised when the PostgreSQL search path names no schema that exists, so no table can be created. */
export class LedgerSchemaMissingError extends PipelineError {
  constructor() {
    super(
      'ledger_schema_missing',
      'The PostgreSQL search_path names no existing schema, so the ledger has nowhere to live. Create the schema, or correct the search_path in DATABASE_URL.',
    );
  }
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Creates the ledger on PostgreSQL: Kysely over a node-postgres pool, for the same queries and
 * migrations as the SQLite ledger. No connection is opened until the first query. `destroy()` on
 * the returned instance ends the pool.
 */
export function createPostgresLedger(options: PostgresLedgerOptions): Kysely<LedgerDatabase> {
  const { schema, logger } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new RangeError(`schema should be a PostgreSQL identifier of letters, digits and underscores, got "${schema}"`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    application_name: 'stripe-pipeline',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle connection that breaks (server restart, network) is reported here; without a
  // listener node-postgres would crash the process. The pool replaces the connection itself.
  pool.on('error', (error) => {
    logger.error({ err: describeError(error) }, 'postgresql idle connection failed');
  });
  return new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Returns the migration options for a PostgreSQL ledger: the schema the ledger tables go to.
 *
 * Kysely's migrator looks for its bookkeeping table in every schema it can see unless it is given
 * one, so a second ledger in another schema of the same database would find the first one's table
 * and skip creating its own. Naming the current schema keeps each ledger's bookkeeping beside its
 * tables.
 */
export async function postgresMigrationOptions(db: Kysely<LedgerDatabase>): Promise<LedgerMigrationOptions> {
  const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = result.rows[0]?.schema ?? null;
  if (schema === null) throw new LedgerSchemaMissingError();
  return { migrationTableSchema: schema };
}

/** Resolves when PostgreSQL responds to `select 1`; for readiness checks. */
export async function pingPostgres(db: Kysely<LedgerDatabase>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** Returns `host:port/database` of a PostgreSQL URL without user name or password, for messages and logs. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}${parsed.pathname}`;
  } catch {
    return '(an invalid PostgreSQL URL)';
  }
}
