import type { ClaimedJob, EventFilter, EventStore, IncomingEvent, JobQueue, LockHandle, ObjectLocks } from '../ports.js';
import type { SqliteGate } from './gate.js';

/** Wraps an event store so that every call runs inside the shared SQLite gate. */
export function gateEventStore(store: EventStore, gate: SqliteGate): EventStore {
  return {
    ingest: (event: IncomingEvent) => gate.run(() => store.ingest(event)),
    get: (eventId: string) => gate.run(() => store.get(eventId)),
    list: (filter: EventFilter) => gate.run(() => store.list(filter)),
    countByStatus: () => gate.run(() => store.countByStatus()),
    ping: () => gate.run(() => store.ping()),
  };
}

/** Wraps a job queue so that every call runs inside the shared SQLite gate. */
export function gateJobQueue(queue: JobQueue, gate: SqliteGate): JobQueue {
  return {
    claim: (options) => gate.run(() => queue.claim(options)),
    extendLease: (job: ClaimedJob, leaseMs: number) => gate.run(() => queue.extendLease(job, leaseMs)),
    complete: (job, decision) => gate.run(() => queue.complete(job, decision)),
    retry: (job, request) => gate.run(() => queue.retry(job, request)),
    deadLetter: (job, request) => gate.run(() => queue.deadLetter(job, request)),
    release: (job, delayMs) => gate.run(() => queue.release(job, delayMs)),
    listDeadLetters: (limit) => gate.run(() => queue.listDeadLetters(limit)),
    replay: (eventId) => gate.run(() => queue.replay(eventId)),
  };
}

/** Wraps object locks so that their calls, and the calls of the handles they return, run inside the shared SQLite gate. */
export function gateObjectLocks(locks: ObjectLocks, gate: SqliteGate): ObjectLocks {
  return {
    async acquire(key: string, ttlMs: number): Promise<LockHandle | null> {
      const handle = await gate.run(() => locks.acquire(key, ttlMs));
      if (handle === null) return null;
      return {
        key: handle.key,
        extend: (nextTtlMs: number) => gate.run(() => handle.extend(nextTtlMs)),
        release: () => gate.run(() => handle.release()),
      };
    },
  };
}
