import type { Logger } from '../../logger.js';
import type { EventRecord } from '../ports.js';
import { isEventStatus, parseStoredDecision } from '../sqlite/event-row.js';

/**
 * Fields of the event hash. Times are epoch milliseconds from the store's clock; an absent field
 * means null. `sequence` orders the record in the indexes; `leaseToken` and `leaseExpiresAt`
 * belong to the current or last claim.
 */
export type EventHash = Readonly<Record<string, string>>;

/**
 * Builds an EventRecord from the event hash. Returns null for an empty hash (the record expired
 * or never existed) and for one without the fields every record has, which is logged.
 */
export function toEventRecord(fields: EventHash, logger: Logger): EventRecord | null {
  const { id, type, payload, status } = fields;
  const created = integerField(fields, 'created');
  const attempts = integerField(fields, 'attempts');
  const receivedAt = integerField(fields, 'receivedAt');
  const updatedAt = integerField(fields, 'updatedAt');
  if (id === undefined) return null;
  if (
    type === undefined ||
    payload === undefined ||
    status === undefined ||
    !isEventStatus(status) ||
    created === null ||
    attempts === null ||
    receivedAt === null ||
    updatedAt === null
  ) {
    logger.error({ eventId: id }, 'redis event record is incomplete; skipped');
    return null;
  }

  const nextAttemptAt = integerField(fields, 'nextAttemptAt');
  const processedAt = integerField(fields, 'processedAt');
  const queued = status === 'received' || status === 'failed';
  return {
    id,
    type,
    created,
    livemode: fields.livemode === '1',
    account: fields.account ?? null,
    payload,
    status,
    attempts,
    lastError: fields.lastError ?? null,
    decision: parseStoredDecision(fields.decision ?? null, id, logger),
    receivedAt: new Date(receivedAt),
    updatedAt: new Date(updatedAt),
    nextAttemptAt: queued && nextAttemptAt !== null ? new Date(nextAttemptAt) : null,
    processedAt: processedAt === null ? null : new Date(processedAt),
  };
}

function integerField(fields: EventHash, name: string): number | null {
  const text = fields[name];
  if (text === undefined) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
