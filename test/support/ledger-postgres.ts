import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import pg from 'pg';
import { createSilentLogger } from '../../src/logger.js';
import { migrateLedger } from '../../src/ledger/migrate.js';
import { createPostgresLedger, postgresMigrationOptions } from '../../src/ledger/postgres.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';

const POSTGRES_HELP =
  'PostgreSQL is not reachable at 127.0.0.1:5432 (database "test", user "postgres" or "root", trust auth). ' +
  'Start it, for example with `pg_ctlcluster 15 main start`.';

export interface PostgresTestLedger {
  readonly db: Kysely<LedgerDatabase>;
  readonly schema: string;
  close(): Promise<void>;
}

/** Creates the schema as the first user the local server accepts; returns that user. */
async function createSchema(schema: string): Promise<string> {
  let lastError: unknown;
  // The test server trusts local connections; its superuser is `postgres` or `root` depending on the install.
  for (const user of ['postgres', 'root']) {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      return user;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`${POSTGRES_HELP} Last error: ${String(lastError)}`);
}

/** Opens a migrated ledger in a PostgreSQL schema of its own, which close() drops. */
export async function openPostgresTestLedger(label: string): Promise<PostgresTestLedger> {
  const schema = `ledger_${label}_${process.pid}_${Date.now()}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const user = await createSchema(schema);
  const db = createPostgresLedger({ url: `postgres://${user}@127.0.0.1:5432/test`, schema, logger: createSilentLogger(), maxConnections: 6 });
  await migrateLedger(db, await postgresMigrationOptions(db));
  return {
    db,
    schema,
    async close(): Promise<void> {
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}
