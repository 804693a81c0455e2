import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { assertRedisReachable, deleteKeys, REDIS_URL } from '../../store/redis-support.js';

/**
 * The real services the distributed tests use. The shared Redis at 127.0.0.1:6379 is never
 * reconfigured here. Each test file gets a schema of its own on the PostgreSQL server at
 * 127.0.0.1:5432. A test that needs a Redis it may kill starts redis-server on a free loopback port.
 */

export { REDIS_URL };
const POSTGRES_BASE = 'postgres://{user}@127.0.0.1:5432/test';

const POSTGRES_HELP =
  'PostgreSQL is not reachable at 127.0.0.1:5432 (database "test", trust auth, user postgres or root). Start it, for example with `pg_ctlcluster 15 main start` or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:15`.';

/** Fails with a message that names Redis and how to start it when the shared Redis is down. */
export function requireRedis(): Promise<void> {
  return assertRedisReachable(REDIS_URL);
}

/** Returns a key prefix unique to this run, so parallel test files never share Redis keys. */
export function uniquePrefix(label: string): string {
  return `test-dist-${label}-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes every key under `prefix` on the Redis at `url`. */
export const deleteRedisKeys = deleteKeys;

export interface TestSchema {
  readonly schema: string;
  /** DATABASE_URL whose connections use the schema (`options=-c search_path=…`). */
  readonly url: string;
  /** DATABASE_URL without a search path, for `createPostgresLedger({ schema })`. */
  readonly baseUrl: string;
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL schema of its own; `drop` removes it with everything in it. */
export async function createTestSchema(label: string): Promise<TestSchema> {
  const schema = `dist_${label}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  let lastError: unknown;
  // The test server trusts local connections; the superuser is `postgres` or `root` depending on the install.
  for (const user of ['postgres', 'root']) {
    const baseUrl = POSTGRES_BASE.replace('{user}', user);
    const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      continue;
    }
    await client.end();
    return {
      schema,
      url: `${baseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      baseUrl,
      async drop(): Promise<void> {
        const dropper = new pg.Client({ connectionString: baseUrl });
        await dropper.connect();
        try {
          await dropper.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await dropper.end();
        }
      },
    };
  }
  throw new Error(`${POSTGRES_HELP} Last error: ${String(lastError)}`);
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and closing the socket again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Starts redis-server (again) on the same port and data folder; resolves once it answers PING. */
  start(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
  /** Kills the server if it runs and removes its data folder. */
  remove(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free loopback port, with its data in a temporary folder
 * so a restart reads back what it wrote. `args` are extra redis-server options.
 */
export async function createOwnRedis(args: readonly string[]): Promise<OwnRedis> {
  const port = await freePort();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-own-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--save', '', ...args], {
      stdio: 'ignore',
    });
    child = started;
    const failed = new Promise<never>((_, reject) => {
      started.once('error', (error) => reject(new Error(`redis-server could not be started (is it installed? apt-get install redis-server): ${error.message}`)));
    });
    await Promise.race([waitForPing(url), failed]);
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };

  return {
    port,
    url,
    start,
    kill,
    async remove(): Promise<void> {
      await kill();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function waitForPing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // A restarted server answers LOADING while it reads the AOF back.
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // Not up yet.
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server at ${url} did not answer PING within 5 s.`);
}
