import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { OutboxStatus } from '../ledger/outbox.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import { withDeliveryColumns, type OutboxDeliveryRow } from './delivery-table.js';

/** An outbox message as the admin API shows it. */
export interface OutboxMessageView {
  readonly id: string;
  readonly topic: string;
  /** `''` for the platform account, `acct_…` for a connected account. */
  readonly account: string;
  readonly status: string;
  /** Delivery attempts so far; reset to 0 by a retry from the admin API. */
  readonly attempts: number;
  /** Error of the latest failed attempt; null once the message is sent. */
  readonly lastError: string | null;
  /** When the next attempt is due; null when it is due at once or the message is no longer pending. */
  readonly nextAttemptAt: string | null;
  readonly createdEventId: string;
  readonly createdAt: string;
  readonly sentAt: string | null;
  readonly payload: Record<string, unknown>;
}

export interface OutboxListFilter {
  readonly status?: OutboxStatus | undefined;
  /** At most this many messages, newest first. */
  readonly limit: number;
}

export type OutboxRetryResult =
  | { readonly kind: 'retried'; readonly message: OutboxMessageView }
  | { readonly kind: 'not_found' }
  /** Only a failed message can be retried; `status` is its current one. */
  | { readonly kind: 'not_failed'; readonly status: string };

const payloadSchema = z.record(z.string(), z.unknown());

export function outboxMessageView(row: OutboxDeliveryRow): OutboxMessageView {
  return {
    id: row.id,
    topic: row.topic,
    account: row.account,
    status: row.status,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    createdEventId: row.created_event_id,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    payload: payloadSchema.parse(JSON.parse(row.payload)),
  };
}

/** Lists outbox messages, newest first, optionally of one status. */
export async function listOutboxMessages(ledger: Kysely<LedgerDatabase>, filter: OutboxListFilter): Promise<OutboxMessageView[]> {
  let query = withDeliveryColumns(ledger).selectFrom('ledger_outbox').selectAll();
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(outboxMessageView);
}

/**
 * Moves a failed message back to pending with its attempts reset, so the relay sends it again
 * (after the older pending messages of its account). The last error stays until the next attempt.
 */
export async function retryOutboxMessage(ledger: Kysely<LedgerDatabase>, id: string): Promise<OutboxRetryResult> {
  const db = withDeliveryColumns(ledger);
  const result = await db
    .updateTable('ledger_outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: null, lease_until: null, lease_token: null })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();

  const row = await db.selectFrom('ledger_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return { kind: 'not_found' };
  if (Number(result.numUpdatedRows) === 0) return { kind: 'not_failed', status: row.status };
  return { kind: 'retried', message: outboxMessageView(row) };
}
