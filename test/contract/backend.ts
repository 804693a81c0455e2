import { afterEach, beforeEach, expect } from 'vitest';
import type { ClaimedJob, EventStore, JobQueue, ObjectLocks } from '../../src/store/ports.js';

/**
 * A storage backend under test. The factory must return an empty store each time, isolated from
 * every other test (its own file, key prefix or schema).
 */
export interface ContractBackend {
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly locks: ObjectLocks;
  /** Time the backend stamps on records and leases, such as a ManualClock for manual-time backends. */
  readonly clock: { now(): number };
  /**
   * True when leases, delays and lock TTLs run on real time (for example Redis key expiry). The
   * suite then uses short durations and really waits in `sleepOrAdvance`.
   */
  readonly usesRealTime: boolean;
  /**
   * Base duration the suite scales its leases, delays and TTLs from. Defaults to 1000 ms for
   * manual time and 100 ms for real time. A real-time backend with coarser timers may raise it.
   */
  readonly timeUnitMs?: number;
  /** Lets `ms` pass: advances a manual clock, or sleeps for real. */
  sleepOrAdvance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export type BackendFactory = () => Promise<ContractBackend>;

/** Creates a fresh backend before each test of the enclosing `describe` and closes it afterwards. */
export function useBackend(factory: BackendFactory): () => ContractBackend {
  let backend: ContractBackend | undefined;

  beforeEach(async () => {
    backend = await factory();
  });

  afterEach(async () => {
    const current = backend;
    backend = undefined;
    await current?.close();
  });

  return () => {
    if (backend === undefined) throw new Error('The contract backend is used outside a test; call it inside `it`.');
    return backend;
  };
}

/** Base duration for leases, delays and TTLs in this backend's time. */
export function timeUnitOf(backend: ContractBackend): number {
  return backend.timeUnitMs ?? (backend.usesRealTime ? 100 : 1000);
}

/**
 * Asserts that `actual` lies between `fromMs` and `toMs`. Reading the clock before and after the
 * call under test gives an exact check on manual time and a tight one on real time.
 */
export function expectTimeBetween(actual: Date | null, fromMs: number, toMs: number): void {
  expect(actual).toBeInstanceOf(Date);
  const value = actual?.getTime() ?? Number.NaN;
  expect(value).toBeGreaterThanOrEqual(fromMs);
  expect(value).toBeLessThanOrEqual(toMs);
}

/** Claims the next job and fails the test when nothing is due. */
export async function claimJob(queue: JobQueue, leaseMs: number): Promise<ClaimedJob> {
  const job = await queue.claim({ leaseMs });
  if (job === null) throw new Error('Expected a due job to claim, but claim resolved null.');
  return job;
}
