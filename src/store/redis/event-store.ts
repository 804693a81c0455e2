import {
  EVENT_STATUSES,
  type EventFilter,
  type EventRecord,
  type EventStatus,
  type EventStore,
  type IncomingEvent,
  type IngestOutcome,
} from '../ports.js';
import { guardRedis } from './connection.js';
import type { StoreContext } from './context.js';
import { ingestEvent } from './ingest.js';
import { toEventRecord } from './record.js';

/** Index entries read per round trip while listing. */
const LIST_PAGE_SIZE = 200;

/**
 * Event store of the distributed backend: one Redis hash per event id, sorted-set indexes for
 * listing and counting, and one BullMQ job per event (see `ingestEvent` for how the two are kept
 * together).
 */
export class RedisEventStore implements EventStore {
  private readonly context: StoreContext;

  constructor(context: StoreContext) {
    this.context = context;
  }

  ingest(event: IncomingEvent): Promise<IngestOutcome> {
    return guardRedis(this.context, 'record and enqueue the event', { eventId: event.id, eventType: event.type }, () =>
      ingestEvent(this.context, event),
    );
  }

  get(eventId: string): Promise<EventRecord | null> {
    return guardRedis(this.context, 'read the event', { eventId }, async () => {
      const fields = await this.context.redis.hgetall(this.context.keys.event(eventId));
      return toEventRecord(fields, this.context.logger);
    });
  }

  /**
   * Lists records newest first. Walks the narrowest index (the type's, else the status's, else
   * all) page by page and, when both filters are set, keeps the records whose status matches.
   */
  list(filter: EventFilter): Promise<EventRecord[]> {
    return guardRedis(this.context, 'list events', {}, async () => {
      assertLimit(filter.limit);
      const { keys } = this.context;
      let index = keys.all;
      let statusToMatch: EventStatus | undefined;
      if (filter.type !== undefined) {
        index = keys.type(filter.type);
        statusToMatch = filter.status;
      } else if (filter.status !== undefined) {
        index = keys.status(filter.status);
      }

      const records: EventRecord[] = [];
      const seen = new Set<string>();
      for (let offset = 0; records.length < filter.limit; offset += LIST_PAGE_SIZE) {
        const ids = await this.context.redis.zrevrange(index, offset, offset + LIST_PAGE_SIZE - 1);
        for (const record of await readRecords(this.context, ids)) {
          // A record inserted while paging shifts the offsets, so the next page may repeat one.
          if (seen.has(record.id) || (statusToMatch !== undefined && record.status !== statusToMatch)) continue;
          seen.add(record.id);
          records.push(record);
          if (records.length === filter.limit) break;
        }
        if (ids.length < LIST_PAGE_SIZE) break;
      }
      return records;
    });
  }

  /**
   * Counts records per status from the status indexes. Entries of records that expired since the
   * last maintenance run are still counted until the maintenance timer cleans the indexes.
   */
  countByStatus(): Promise<Record<EventStatus, number>> {
    return guardRedis(this.context, 'count events by status', {}, async () => {
      const pipeline = this.context.redis.pipeline();
      for (const status of EVENT_STATUSES) pipeline.zcard(this.context.keys.status(status));
      const results = (await pipeline.exec()) ?? [];
      const counts: Record<EventStatus, number> = { received: 0, processing: 0, processed: 0, failed: 0, dead: 0 };
      EVENT_STATUSES.forEach((status, index) => {
        const [error, count] = results[index] ?? [null, 0];
        if (error !== null) throw error;
        counts[status] = typeof count === 'number' ? count : 0;
      });
      return counts;
    });
  }

  ping(): Promise<void> {
    return guardRedis(this.context, 'answer a ping', {}, async () => {
      await this.context.redis.ping();
    });
  }
}

/** Reads records by id in one pipeline, in the given order, skipping ids whose record expired. */
export async function readRecords(context: StoreContext, ids: readonly string[]): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  const pipeline = context.redis.pipeline();
  for (const id of ids) pipeline.hgetall(context.keys.event(id));
  const results = (await pipeline.exec()) ?? [];
  const records: EventRecord[] = [];
  for (const [error, fields] of results) {
    if (error !== null) throw error;
    if (!isFieldMap(fields)) continue;
    const record = toEventRecord(fields, context.logger);
    if (record !== null) records.push(record);
  }
  return records;
}

function isFieldMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects limits that are negative or not whole numbers. */
export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit should be a whole number of at least 0, got ${limit}`);
  }
}
