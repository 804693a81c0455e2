import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import type { LedgerDatabase, OutboxTable } from './schema.js';

/**
 * The outbox: messages that effects write in the same transaction as the business rows, for a
 * sender to deliver after the commit. Nothing here sends anything.
 */
export const OUTBOX_TOPICS = [
  /** Fulfil the order; once per order, whichever of its payment events arrive. */
  'order.paid',
  /** Tell the buyer a payment failed; once per order. */
  'order.payment_failed',
  'subscription.access_granted',
  'subscription.access_revoked',
  /** The dunning e-mail for a failed invoice payment; once per invoice and attempt. */
  'invoice.payment_failed',
  /** Remind the customer that a trial ends soon; once per subscription and trial end. */
  'trial.ending_reminder',
  /** Once per refund. */
  'refund.recorded',
  /** Ask a person to look; once per manual review. */
  'manual_review.requested',
] as const;

export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** JSON payload of a message: ids, amounts and flags, never card data or e-mail addresses. */
export type OutboxPayload = Readonly<Record<string, string | number | boolean | null>>;

export interface OutboxMessage {
  readonly id: string;
  readonly dedupeKey: string;
  readonly topic: string;
  readonly account: string;
  readonly payload: Record<string, unknown>;
  readonly status: string;
  readonly attempts: number;
  readonly createdEventId: string;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

export interface NewOutboxMessage {
  readonly topic: OutboxTopic;
  /** Identifies the business fact; a second message with the same key is dropped. */
  readonly dedupeKey: string;
  readonly account: string;
  readonly payload: OutboxPayload;
  readonly eventId: string;
  readonly now: Date;
}

let lastIdMs = 0;
let idCounter = 0;

/**
 * Returns a message id that sorts in creation order within this process. It is the time in base
 * 36, a counter for messages of the same millisecond, then random bytes against collisions between
 * processes.
 */
function nextMessageId(now: Date): string {
  const ms = now.getTime();
  if (ms > lastIdMs) {
    lastIdMs = ms;
    idCounter = 0;
  } else {
    // Same millisecond, or a clock that stepped back: keep counting from the last id.
    idCounter += 1;
  }
  return `${lastIdMs.toString(36).padStart(9, '0')}${idCounter.toString(36).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
}

/** Inserts the message unless one with its dedupe key exists; resolves true when it was inserted. */
export async function enqueueOutboxMessage(trx: Transaction<LedgerDatabase>, message: NewOutboxMessage): Promise<boolean> {
  const result = await trx
    .insertInto('ledger_outbox')
    .values({
      id: nextMessageId(message.now),
      dedupe_key: message.dedupeKey,
      topic: message.topic,
      account: message.account,
      payload: JSON.stringify(message.payload),
      status: 'pending',
      attempts: 0,
      created_event_id: message.eventId,
      created_at: message.now.toISOString(),
      sent_at: null,
    })
    .onConflict((conflict) => conflict.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

const payloadSchema = z.record(z.string(), z.unknown());

export function toOutboxMessage(row: OutboxTable): OutboxMessage {
  return {
    id: row.id,
    dedupeKey: row.dedupe_key,
    topic: row.topic,
    account: row.account,
    payload: payloadSchema.parse(JSON.parse(row.payload)),
    status: row.status,
    attempts: Number(row.attempts),
    createdEventId: row.created_event_id,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}

/** Pending messages, oldest first, at most `limit`. Ids break ties within one millisecond. */
export async function listPendingOutbox(db: Kysely<LedgerDatabase>, limit: number): Promise<OutboxMessage[]> {
  const rows = await db
    .selectFrom('ledger_outbox')
    .selectAll()
    .where('status', '=', 'pending')
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toOutboxMessage);
}

/** Marks a message sent and counts the attempt. Rejects with NotFoundError for an unknown id. */
export async function markOutboxSent(db: Kysely<LedgerDatabase>, id: string, options: { now?: Date } = {}): Promise<void> {
  const sentAt = (options.now ?? new Date()).toISOString();
  const result = await db
    .updateTable('ledger_outbox')
    .set((update) => ({ status: 'sent', sent_at: sentAt, attempts: update('attempts', '+', 1) }))
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('Outbox message', id);
}
