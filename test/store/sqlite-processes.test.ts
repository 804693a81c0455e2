import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/logger.js';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/store/sqlite/index.js';
import { sampleEvent } from '../contract/samples.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));
const PROCESSES = 4;
const EVENTS = 600;

interface ClaimProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
  /** Exit code, captured from the spawn on, so an early exit is not missed. */
  readonly exited: Promise<number | null>;
}

async function nextLine(claimProcess: ClaimProcess, what: string): Promise<string> {
  const result = await claimProcess.lines.next();
  if (result.done === true) throw new Error(`A claim process exited before printing ${what}.`);
  return result.value;
}

describe('sqlite store shared by processes', () => {
  let directory: string;
  let filePath: string;
  let store: EmbeddedStore;
  const processes: ClaimProcess[] = [];

  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-sqlite-processes-'));
    filePath = path.join(directory, 'pipeline.db');
    // The child processes use the system clock, so the events must be due by real time too.
    store = openEmbeddedStore({ path: filePath, logger: createSilentLogger() });
  });

  afterEach(async () => {
    for (const { child } of processes) {
      if (child.exitCode === null) child.kill();
    }
    processes.length = 0;
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('never claims one job twice', async () => {
    const ids = new Set<string>();
    for (let index = 0; index < EVENTS; index += 1) {
      const event = sampleEvent();
      ids.add(event.id);
      await store.events.ingest(event);
    }

    for (let index = 0; index < PROCESSES; index += 1) {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT, filePath], { stdio: ['pipe', 'pipe', 'pipe'] });
      const stderr: string[] = [];
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
      const exited = once(child, 'exit').then(([code]: unknown[]) => {
        if (code !== 0) process.stderr.write(`claim process exited with ${String(code)}: ${stderr.join('')}\n`);
        return typeof code === 'number' ? code : null;
      });
      processes.push({ child, exited, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() });
    }
    for (const claimProcess of processes) expect(await nextLine(claimProcess, '"ready"')).toBe('ready');

    // Start every process at once, so their claims overlap on the file.
    for (const { child } of processes) child.stdin.write('go\n');
    const claimedPerProcess = await Promise.all(
      processes.map(async (claimProcess) => {
        const line = await nextLine(claimProcess, 'its claimed ids');
        expect(await claimProcess.exited).toBe(0);
        const parsed: unknown = JSON.parse(line);
        if (!Array.isArray(parsed)) throw new Error(`Expected a JSON array of event ids, got: ${line}`);
        const claimedIds = parsed.filter((id): id is string => typeof id === 'string');
        expect(claimedIds).toHaveLength(parsed.length);
        return claimedIds;
      }),
    );

    const claimed = claimedPerProcess.flat();
    expect(claimed).toHaveLength(EVENTS);
    expect(new Set(claimed)).toEqual(ids);
    expect(claimedPerProcess.filter((list) => list.length > 0).length).toBeGreaterThan(1);
    expect(await store.events.countByStatus()).toMatchObject({ processed: EVENTS, processing: 0, received: 0 });
  });
});
