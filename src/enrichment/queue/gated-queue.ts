import type { SqliteGate } from '../../store/sqlite/gate.js';
import type { EnrichmentQueue } from '../ports.js';

/** Wraps an enrichment queue so that every call runs inside the gate shared by all users of its SQLite handle. */
export function gateEnrichmentQueue(queue: EnrichmentQueue, gate: SqliteGate): EnrichmentQueue {
  return {
    enqueue: (request) => gate.run(() => queue.enqueue(request)),
    claim: (options) => gate.run(() => queue.claim(options)),
    complete: (job) => gate.run(() => queue.complete(job)),
    retry: (job, request) => gate.run(() => queue.retry(job, request)),
    waitUntil: (job, request) => gate.run(() => queue.waitUntil(job, request)),
    count: () => gate.run(() => queue.count()),
    close: () => gate.run(() => queue.close()),
  };
}
