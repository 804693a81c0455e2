/**
 * Child process for the multi-process claim test: opens the SQLite store at argv[2], prints
 * "ready", waits for "go" on stdin, then claims and completes jobs until none is due, and prints
 * the claimed event ids as one JSON line.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout } from 'node:timers/promises';
import { StoreUnavailableError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/logger.js';
import { openEmbeddedStore } from '../../src/store/sqlite/index.js';
import { sampleDecision } from '../contract/samples.js';

const filePath = process.argv[2];
if (filePath === undefined) throw new Error('Pass the SQLite file path as the first argument.');

const store = openEmbeddedStore({ path: filePath, logger: createSilentLogger() });
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(lines, 'line');
lines.close();

/**
 * Retries a store call that found the write lock busy, as the worker does after its poll interval.
 * The store waits only 250 ms for the lock, and four processes on a loaded machine can exceed that.
 */
async function whenFree<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= 100) throw error;
      await setTimeout(5);
    }
  }
}

const claimed: string[] = [];
for (;;) {
  const job = await whenFree(() => store.queue.claim({ leaseMs: 60_000 }));
  if (job === null) break;
  claimed.push(job.id);
  await whenFree(() => store.queue.complete(job, sampleDecision()));
  // Stand in for the work a real worker does between claims. This leaves the write lock free for
  // the other processes, which a tight loop would starve.
  await setTimeout(1);
}
await store.close();
process.stdout.write(`${JSON.stringify(claimed)}\n`);
