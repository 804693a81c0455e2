import type { Decision } from '../decision/types.js';
import type { EventRecord, EventStatus } from '../store/ports.js';

/** An event record as the admin API returns it, with timestamps as ISO 8601 strings. */
export interface EventView {
  readonly id: string;
  readonly type: string;
  /** Stripe's `created`, in Unix seconds. */
  readonly created: number;
  readonly livemode: boolean;
  readonly account: string | null;
  readonly status: EventStatus;
  readonly attempts: number;
  /** Error of the latest failed attempt; null once an attempt has processed the event. */
  readonly lastError: string | null;
  readonly decision: Decision | null;
  readonly receivedAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt: string | null;
  readonly processedAt: string | null;
  /** The raw body exactly as Stripe sent it; present only when requested. */
  readonly payload?: string;
}

export function eventView(record: EventRecord, options: { includePayload: boolean } = { includePayload: false }): EventView {
  const view: EventView = {
    id: record.id,
    type: record.type,
    created: record.created,
    livemode: record.livemode,
    account: record.account,
    status: record.status,
    attempts: record.attempts,
    lastError: record.lastError,
    decision: record.decision,
    receivedAt: record.receivedAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    nextAttemptAt: record.nextAttemptAt?.toISOString() ?? null,
    processedAt: record.processedAt?.toISOString() ?? null,
  };
  return options.includePayload ? { ...view, payload: record.payload } : view;
}
