import { EVENT_STATUSES, type EventStatus } from '../ports.js';

/** Name of the BullMQ queue that carries one job per event; its keys live under `<prefix>:jobs:`. */
export const QUEUE_NAME = 'jobs';

/**
 * Key names of the Redis backend. Everything lives under one prefix, so several deployments can
 * share a server and a test can delete its own keys with one SCAN.
 *
 * - `<prefix>:store:event:<event id>`: the event record (a hash).
 * - `<prefix>:store:index:all`, `…:index:status:<status>`, `…:index:type:<type>`: sorted sets of
 *   event ids scored by the ingest sequence, for `list` and `countByStatus`.
 * - `<prefix>:store:types`: the event types that have an index, so expiry can clean them.
 * - `<prefix>:store:dead-letters`: dead events scored by the order they were dead-lettered.
 * - `<prefix>:store:expiry`: event ids scored by the time their record expires.
 * - `<prefix>:store:unqueued`: events recorded but not yet confirmed in the queue, scored by the
 *   time after which the sweeper may enqueue them (see `sweepUnqueued`).
 * - `<prefix>:store:sequence`: counter that orders ingests and dead letters.
 * - `<prefix>:lock:<key>`: object locks.
 * - `<prefix>:jobs:…`: BullMQ's own keys.
 */
export interface StoreKeys {
  readonly prefix: string;
  event(eventId: string): string;
  readonly all: string;
  status(status: EventStatus): string;
  /** Status indexes in EVENT_STATUSES order, as the Lua scripts expect them. */
  readonly statuses: readonly string[];
  type(type: string): string;
  readonly types: string;
  readonly deadLetters: string;
  readonly expiry: string;
  readonly unqueued: string;
  readonly sequence: string;
  lock(key: string): string;
}

export function storeKeys(prefix: string): StoreKeys {
  if (prefix.trim() === '') {
    throw new RangeError('keyPrefix should be a non-empty string, got an empty one');
  }
  const store = `${prefix}:store`;
  const status = (value: EventStatus): string => `${store}:index:status:${value}`;
  return {
    prefix,
    event: (eventId) => `${store}:event:${eventId}`,
    all: `${store}:index:all`,
    status,
    statuses: EVENT_STATUSES.map(status),
    type: (type) => `${store}:index:type:${type}`,
    types: `${store}:types`,
    deadLetters: `${store}:dead-letters`,
    expiry: `${store}:expiry`,
    unqueued: `${store}:unqueued`,
    sequence: `${store}:sequence`,
    lock: (key) => `${prefix}:lock:${key}`,
  };
}

/**
 * Derives the BullMQ job id of an event: `evt-` followed by the event id in base64url.
 *
 * BullMQ rejects custom ids that contain ':' or that read as an integer, and Stripe ids are
 * opaque strings, so the id is encoded rather than used as is. base64url uses only `A-Z a-z 0-9 -
 * _`, and the `evt-` prefix keeps the result from ever being numeric. The mapping is one-to-one,
 * so two events never share a job.
 */
export function jobIdFor(eventId: string): string {
  return `evt-${Buffer.from(eventId, 'utf8').toString('base64url')}`;
}

/** Reverses `jobIdFor`; returns null for an id this backend did not create. */
export function eventIdFromJobId(jobId: string): string | null {
  if (!jobId.startsWith('evt-')) return null;
  const encoded = jobId.slice('evt-'.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return null;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}
