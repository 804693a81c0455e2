import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-errors.js';

/** Root of this repository: the baseline server runs from here, and the service by default. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const BASELINE_SERVER = fileURLToPath(new URL('./bench-baseline-server.ts', import.meta.url));

/** Both the service and the baseline server print this line on stderr once they listen. */
const READY_LINE = /Listening on http:\/\/127\.0\.0\.1:(\d+)\/webhooks\/stripe/;

/** How much of a child's output is kept for error messages. */
const OUTPUT_TAIL_CHARS = 8_000;

/** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;

export interface RunningChild {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** The last lines the process wrote to stdout and stderr, for error messages. */
  outputTail(): string;
  /** Sends SIGTERM, waits for the exit (SIGKILL after 15 s) and removes the child's data directory. */
  stop(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
const scratchDirectories = new Set<string>();

/**
 * Kills every child still running and removes every scratch directory. Synchronous, so it also
 * works in an `exit` handler.
 */
export function cleanUpNow(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
  liveChildren.clear();
  for (const directory of scratchDirectories) rmSync(directory, { recursive: true, force: true });
  scratchDirectories.clear();
}

/**
 * Makes sure no child outlives the bench: on a normal exit, an uncaught error, Ctrl-C or SIGTERM,
 * every child is killed and every scratch directory removed.
 */
export function installCleanupOnExit(): void {
  process.once('exit', cleanUpNow);
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanUpNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Creates an empty directory under the system temp directory, removed when the bench ends. */
export function makeScratchDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirectories.add(directory);
  return directory;
}

export interface ServiceSettings {
  /** `start` (HTTP ingest and worker) or `serve` (HTTP ingest only). */
  readonly command: 'start' | 'serve';
  /** Repository whose `src/cli/main.ts` runs; lets a modified copy be measured the same way. */
  readonly root: string;
  readonly secret: string;
  readonly startTimeoutMs: number;
  /** Node options placed before the script, for example `--cpu-prof` (which NODE_OPTIONS does not accept). */
  readonly nodeArgs?: readonly string[];
}

/**
 * Starts `node --import tsx src/cli/main.ts <command>` on the embedded SQLite store, in a new data
 * directory, on a free port of 127.0.0.1, with LOG_LEVEL=warn and no AI provider. The environment
 * is built from scratch, so a REDIS_URL or DATABASE_URL in the shell cannot switch the service to
 * the distributed mode.
 */
export async function startService(settings: ServiceSettings): Promise<RunningChild & { readonly dataDir: string }> {
  const dataDir = makeScratchDirectory(`stripe-bench-${settings.command}-`);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    STRIPE_WEBHOOK_SECRET: settings.secret,
    // Requests are signed before a phase starts, so a long phase must not see its signatures expire.
    STRIPE_SIGNATURE_TOLERANCE_SECONDS: '86400',
    AI_PROVIDER: 'none',
  };
  const child = await startChild({
    name: settings.command,
    args: [...(settings.nodeArgs ?? []), '--import', 'tsx', 'src/cli/main.ts', settings.command],
    cwd: settings.root,
    env,
    startTimeoutMs: settings.startTimeoutMs,
  });
  return {
    ...child,
    dataDir,
    async stop(): Promise<void> {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
      scratchDirectories.delete(dataDir);
    },
  };
}

/** Starts the baseline server (`bench-baseline-server.ts`) on a free port of 127.0.0.1. */
export function startBaseline(options: { secret: string; startTimeoutMs: number }): Promise<RunningChild> {
  return startChild({
    name: 'baseline',
    args: ['--import', 'tsx', BASELINE_SERVER],
    cwd: REPO_ROOT,
    env: { ...baseEnv(), BENCH_SECRET: options.secret, BENCH_TOLERANCE_SECONDS: '86400' },
    startTimeoutMs: options.startTimeoutMs,
  });
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? os.tmpdir(), TMPDIR: os.tmpdir() };
}

interface ChildSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly startTimeoutMs: number;
}

/** Spawns a Node process and resolves once it prints its ready line, with the port it listens on. */
async function startChild(spec: ChildSpec): Promise<RunningChild> {
  const child = spawn(process.execPath, [...spec.args], { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new BenchError(`The ${spec.name} process ${reason}. Its output:\n${output}`, { context: { name: spec.name } }));
    };
    const timer = setTimeout(() => fail(`did not print its listening address within ${spec.startTimeoutMs} ms`), spec.startTimeoutMs);
    child.stderr.on('data', () => {
      const match = READY_LINE.exec(output);
      if (settled || match?.[1] === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    child.once('error', (error) => fail(`could not be started (${error.message})`));
    void exited.then(() => fail(`exited with code ${String(child.exitCode ?? child.signalCode)} before listening`));
  });

  const pid = child.pid;
  if (pid === undefined) throw new BenchError(`The ${spec.name} process has no pid although it is listening.`);

  return {
    name: spec.name,
    pid,
    port,
    outputTail: () => output,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
