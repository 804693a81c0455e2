import { OUTBOX_STATUSES, type OutboxStatus } from '../ledger/outbox.js';
import { EVENT_STATUSES, type EventStatus } from '../store/ports.js';
import { InvalidRequestError } from './errors.js';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** Longest query value quoted back in an error message, so a huge value does not bloat the response. */
const MAX_QUOTED_LENGTH = 60;

function quoted(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value);
}

function invalidParameter(name: string, expected: string, value: string): InvalidRequestError {
  return new InvalidRequestError('invalid_parameter', `Query parameter "${name}" should be ${expected}, got ${quoted(value)}.`);
}

/** Parses `limit`: a whole number from 1 to 500, 50 when absent or empty. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LIST_LIMIT;
  const limit = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) {
    throw invalidParameter('limit', `a whole number from 1 to ${MAX_LIST_LIMIT}`, value);
  }
  return limit;
}

/** Parses `status`: one of the event statuses, or undefined when absent or empty. */
export function parseStatus(value: string | undefined): EventStatus | undefined {
  if (value === undefined || value === '') return undefined;
  const status = EVENT_STATUSES.find((candidate) => candidate === value);
  if (status === undefined) throw invalidParameter('status', `one of ${EVENT_STATUSES.join(', ')}`, value);
  return status;
}

/** Parses `status` of the outbox list: one of the outbox statuses, or undefined when absent or empty. */
export function parseOutboxStatus(value: string | undefined): OutboxStatus | undefined {
  if (value === undefined || value === '') return undefined;
  const status = OUTBOX_STATUSES.find((candidate) => candidate === value);
  if (status === undefined) throw invalidParameter('status', `one of ${OUTBOX_STATUSES.join(', ')}`, value);
  return status;
}

/** Parses `type`: a Stripe event type such as `invoice.paid`, or undefined when absent or empty. */
export function parseEventType(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 255 || !/^[a-z0-9_.]+$/.test(value)) {
    throw invalidParameter('type', 'a Stripe event type such as invoice.paid', value);
  }
  return value;
}

/** Parses `include`: `payload` adds the raw body to an event; absent or empty adds nothing. */
export function parseInclude(value: string | undefined): { includePayload: boolean } {
  if (value === undefined || value === '') return { includePayload: false };
  if (value !== 'payload') throw invalidParameter('include', 'payload', value);
  return { includePayload: true };
}
