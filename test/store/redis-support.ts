import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createSilentLogger } from '../../src/logger.js';
import { openRedisStore, type RedisStore, type RedisStoreOptions } from '../../src/store/redis/index.js';
import type { ContractBackend } from '../contract/backend.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Throws an error that names the command to start Redis when the test server is down. */
export async function assertRedisReachable(url: string = REDIS_URL): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch {
    const { hostname, port } = new URL(url);
    throw new Error(`Redis is not reachable at ${hostname}:${port}; start it with: redis-server --daemonize yes --port ${port}`);
  } finally {
    client.disconnect();
  }
}

/** Returns a key prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix:` on the server at `url`. */
export async function deleteKeys(prefix: string, url: string = REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Lists the keys under `prefix:` that match `pattern` (a glob after the prefix). */
export async function listKeys(redis: Redis, prefix: string, pattern = '*'): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${pattern}`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

export type TestStoreOptions = Partial<Omit<RedisStoreOptions, 'url' | 'keyPrefix'>> & { readonly url?: string; readonly keyPrefix?: string };

/** Opens a Redis store on a fresh key prefix (or the one given), with a silent logger. */
export async function openTestStore(options: TestStoreOptions = {}): Promise<{ store: RedisStore; prefix: string }> {
  const prefix = options.keyPrefix ?? uniquePrefix('store');
  const store = await openRedisStore({
    retentionDays: 7,
    logger: createSilentLogger(),
    ...options,
    url: options.url ?? REDIS_URL,
    keyPrefix: prefix,
  });
  return { store, prefix };
}

/** Time unit for the contract suite: its leases are 3 units, slept past by 1 unit. */
const CONTRACT_TIME_UNIT_MS = 200;
/** BullMQ's stalled checker runs this often in contract tests, well inside one time unit. */
const CONTRACT_STALLED_INTERVAL_MS = 20;

/**
 * Opens a contract backend on the shared Redis under its own key prefix. Leases, delays and lock
 * TTLs are Redis and BullMQ timers, so the backend runs on real time and the suite really waits.
 */
export async function openRedisContractBackend(): Promise<ContractBackend> {
  await assertRedisReachable();
  const { store, prefix } = await openTestStore({ stalledIntervalMs: CONTRACT_STALLED_INTERVAL_MS });
  return {
    events: store.events,
    queue: store.queue,
    locks: store.locks,
    clock: { now: () => Date.now() },
    usesRealTime: true,
    timeUnitMs: CONTRACT_TIME_UNIT_MS,
    sleepOrAdvance: (ms) => sleep(ms),
    async close(): Promise<void> {
      await store.close();
      await deleteKeys(prefix);
    },
  };
}

/** A redis-server process of the test's own, on a free loopback port, without persistence. */
export interface OwnRedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts the server (again) on the same port; resolves when it replies to PING. */
  start(): Promise<void>;
  /** Kills the server and waits for the process to exit. */
  stop(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but get no replies, as in a network partition. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
  /** Stops the server and deletes its temporary directory. */
  dispose(): Promise<void>;
}

/** Starts a redis-server with `--save '' --appendonly no` plus `extraArguments`, in a temp dir. */
export async function startOwnRedisServer(extraArguments: readonly string[] = []): Promise<OwnRedisServer> {
  const port = await freePort();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === null) return;
    child = null;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  const server: OwnRedisServer = {
    port,
    url,
    async start(): Promise<void> {
      if (child !== null) return;
      const started = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...extraArguments],
        { stdio: 'ignore' },
      );
      let spawnError: Error | null = null;
      started.once('error', (error) => {
        spawnError = error;
      });
      child = started;
      await waitForPing(url, () => spawnError);
    },
    stop,
    pause(): void {
      child?.kill('SIGSTOP');
    },
    resume(): void {
      child?.kill('SIGCONT');
    },
    async dispose(): Promise<void> {
      server.resume();
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

async function waitForPing(url: string, spawnError: () => Error | null): Promise<void> {
  for (let attempt = 0; attempt < 100 && spawnError() === null; attempt++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await sleep(50);
    } finally {
      client.disconnect();
    }
  }
  const cause = spawnError();
  const reason = cause === null ? '' : ` (${cause.message})`;
  throw new Error(`The test's own redis-server at ${url} did not reply to PING${reason}; check that redis-server is installed and on PATH.`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not find a free port for redis-server.'));
      });
    });
  });
}
