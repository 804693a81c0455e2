import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real `stripe-pipeline` processes for the multi-process tests: `node --import tsx
 * src/cli/main.ts <command>`, each with its own environment.
 */

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(REPOSITORY, 'src', 'cli', 'main.ts');
/** Output kept per process for failure messages; older output is dropped. */
const KEPT_OUTPUT_CHARS = 20_000;
const SERVE_START_TIMEOUT_MS = 30_000;

export const TEST_SECRET = 'whsec_test_secret_for_the_distributed_tests';

export interface CliProcess {
  readonly command: string;
  readonly child: ChildProcess;
  /** The HTTP port of a `serve`, read from its start-up line; null for other commands. */
  readonly port: number | null;
  /** Resolves with the exit code, or the signal that ended the process. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** The latest output of stdout and stderr, for failure messages. */
  output(): string;
  /** Sends `signal` unless the process has exited; resolves once it has. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClusterEnvironment {
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly keyPrefix: string;
  /** Further settings, such as short leases for a crash test. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** A data folder for the processes' DATA_DIR; nothing should be written there in distributed mode. */
export function createDataDirectory(): { path: string; remove(): void } {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-distributed-'));
  return { path: directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** Builds the environment of a test process: test mode, quick retries and polls, and warnings only in the logs. */
export function processEnvironment(cluster: ClusterEnvironment, dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    REDIS_URL: cluster.redisUrl,
    DATABASE_URL: cluster.databaseUrl,
    REDIS_KEY_PREFIX: cluster.keyPrefix,
    STRIPE_WEBHOOK_SECRET: TEST_SECRET,
    RETRY_BACKOFF_BASE_MS: '50',
    RETRY_BACKOFF_MAX_MS: '1000',
    WORKER_POLL_INTERVAL_MS: '20',
    SHUTDOWN_GRACE_MS: '2000',
    ...cluster.extra,
  };
}

/**
 * Starts `stripe-pipeline <args>`; for `serve`, resolves once it listens unless `waitForPort` is
 * false.
 */
export async function startCli(args: readonly string[], env: Readonly<Record<string, string>>, options: { waitForPort?: boolean } = {}): Promise<CliProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPOSITORY,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
  };
  // Both pipes are always read, so a chatty process never blocks on a full pipe.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code, signal]: unknown[]) => (typeof code === 'number' ? code : ((signal as NodeJS.Signals | null) ?? null)));

  const command = args.join(' ');
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };

  let port: number | null = null;
  if (args[0] === 'serve' && options.waitForPort !== false) {
    try {
      port = await listeningPort(child, exited, () => output);
    } catch (error) {
      await stop('SIGKILL');
      throw error;
    }
  }
  return { command, child, port, exited, output: () => output, stop };
}

/** Runs a command to its end and returns its exit code and output. */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number | NodeJS.Signals | null; output: string }> {
  const started = await startCli(args, env, { waitForPort: false });
  const code = await started.exited;
  return { code, output: started.output() };
}

function listeningPort(child: ChildProcess, exited: Promise<unknown>, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`serve did not start listening within ${SERVE_START_TIMEOUT_MS} ms. Output:\n${output()}`)), SERVE_START_TIMEOUT_MS);
    const onData = (): void => {
      const match = /Listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output());
      if (match?.[1] !== undefined) finish(Number(match[1]));
    };
    const finish = (result: number | Error): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    child.stderr?.on('data', onData);
    void exited.then((code) => finish(new Error(`serve exited (${String(code)}) before it listened. Output:\n${output()}`)));
  });
}

/** Stops every process: SIGTERM first, SIGKILL for any still running after `graceMs`. */
export async function stopAll(processes: readonly CliProcess[], graceMs = 5000): Promise<void> {
  await Promise.all(
    processes.map(async (cliProcess) => {
      const timer = setTimeout(() => cliProcess.child.kill('SIGKILL'), graceMs);
      try {
        await cliProcess.stop('SIGTERM');
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
