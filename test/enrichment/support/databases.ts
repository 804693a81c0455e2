import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateLedger } from '../../../src/ledger/migrate.js';
import type { LedgerDatabase } from '../../../src/ledger/schema.js';

export interface SqliteLedger {
  readonly file: string;
  readonly sqlite: Database.Database;
  readonly ledger: Kysely<LedgerDatabase>;
  close(): Promise<void>;
}

/** Opens a fresh SQLite file under the OS temp directory, migrated to the latest ledger schema. */
export async function openSqliteLedger(label: string): Promise<SqliteLedger> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `enrichment-${label}-`));
  const file = path.join(directory, 'pipeline.db');
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  const ledger = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateLedger(ledger);
  return {
    file,
    sqlite,
    ledger,
    close(): Promise<void> {
      // Closing the handle directly; Kysely's SQLite driver would close the same handle.
      sqlite.close();
      fs.rmSync(directory, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

export interface PostgresLedger {
  readonly ledger: Kysely<LedgerDatabase>;
  readonly schema: string;
  close(): Promise<void>;
}

const POSTGRES_HELP =
  'PostgreSQL is not reachable at 127.0.0.1:5432 (database "test", trust auth). Start it, for example with `pg_ctlcluster 15 main start` or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:15`.';

/** Creates a PostgreSQL schema of its own, migrated to the latest ledger schema. `close` drops it. */
export async function openPostgresLedger(label: string): Promise<PostgresLedger> {
  const schema = `enrichment_${label}_${process.pid}_${Date.now()}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  let lastError: unknown;
  // The test server trusts local connections; the superuser is `postgres` or `root` depending on the install.
  for (const user of ['postgres', 'root']) {
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: 5432,
      database: 'test',
      user,
      max: 4,
      connectionTimeoutMillis: 3000,
      options: `-c search_path=${schema}`,
    });
    try {
      await pool.query(`CREATE SCHEMA "${schema}"`);
    } catch (error) {
      lastError = error;
      await pool.end();
      continue;
    }
    const ledger = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
    await migrateLedger(ledger, { migrationTableSchema: schema });
    return {
      ledger,
      schema,
      async close(): Promise<void> {
        await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(ledger);
        await ledger.destroy();
      },
    };
  }
  throw new Error(`${POSTGRES_HELP} Last error: ${String(lastError)}`);
}

const REDIS_HELP = 'Redis is not reachable at 127.0.0.1:6379. Start it, for example with `redis-server --daemonize yes` or `docker run -p 6379:6379 redis:7`.';

/** Fails with a message that names Redis and how to start it when Redis is down. */
export async function requireRedis(): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`${REDIS_HELP} (${String(error)})`);
  } finally {
    client.disconnect();
  }
}

/** Deletes every Redis key that starts with a test file's prefix. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port: 6379 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
