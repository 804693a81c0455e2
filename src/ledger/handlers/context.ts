import type { Transaction } from 'kysely';
import type { Action, Decision } from '../../decision/types.js';
import type { SnapshotEvent } from '../../domain/stripe-event.js';
import { NonRetryableError } from '../../errors.js';
import type { LedgerDatabase } from '../schema.js';
import type { EventVersion } from '../versions.js';

/** The input of a handler: the open transaction, the event and its decision. */
export interface HandlerContext {
  /** The transaction that also inserted the event's applied marker. */
  readonly trx: Transaction<LedgerDatabase>;
  readonly event: SnapshotEvent;
  readonly decision: Decision;
  /** `event.account`, or `''` for the platform account. */
  readonly account: string;
  /** Wall-clock time of this apply, for `created_at` columns only; ordering uses `event.created`. */
  readonly now: Date;
  /** Short descriptions of what changed (`order:pi_…`, `outbox:order.paid`), returned by applyEvent. */
  readonly effects: string[];
}

/** Writes one event's business rows and outbox messages; raises to roll the whole event back. */
export type Handler = (context: HandlerContext) => Promise<void>;

export type HandlerTable = Partial<Record<Action, Handler>>;

/** Returns the version a row gets from this event, for a status of the given rank. */
export function versionOf(context: HandlerContext, rank: number): EventVersion {
  return { created: context.event.created, rank, eventId: context.event.id };
}

/** Builds the error for an event whose object type the decision's action does not handle. */
export function unsupportedObject(context: HandlerContext, type: string | null): NonRetryableError {
  return new NonRetryableError(
    `Event ${context.event.id} (${context.event.type}): action ${context.decision.action} does not apply to objects of type "${type ?? 'missing'}".`,
    { context: { eventId: context.event.id, eventType: context.event.type, action: context.decision.action, objectType: type } },
  );
}
