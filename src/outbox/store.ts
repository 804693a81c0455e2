import type { Kysely } from 'kysely';
import type { LedgerDatabase } from '../ledger/schema.js';
import { withDeliveryColumns, type OutboxDeliveryRow } from './delivery-table.js';

/**
 * The relay's queries on `ledger_outbox`. Portable Kysely only, so they run on SQLite and
 * PostgreSQL alike. Times are ISO-8601 text in UTC from `Date#toISOString`, which all have the same
 * length and layout, so comparing them as text compares the instants.
 */

/**
 * Selects pending messages that are due, not leased, and the oldest pending message of their
 * account, oldest first. The last rule keeps the order per account: a message waits while an older
 * message of its account is pending, even if that one is leased or not due yet. Failed and sent
 * messages do not hold later ones back.
 */
export async function selectDueMessages(ledger: Kysely<LedgerDatabase>, options: { now: string; limit: number }): Promise<OutboxDeliveryRow[]> {
  const { now, limit } = options;
  return withDeliveryColumns(ledger)
    .selectFrom('ledger_outbox as message')
    .selectAll('message')
    .where('message.status', '=', 'pending')
    .where((eb) => eb.or([eb('message.next_attempt_at', 'is', null), eb('message.next_attempt_at', '<=', now)]))
    .where((eb) => eb.or([eb('message.lease_until', 'is', null), eb('message.lease_until', '<', now)]))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('ledger_outbox as earlier')
            .select('earlier.id')
            .whereRef('earlier.account', '=', 'message.account')
            .where('earlier.status', '=', 'pending')
            .where((inner) =>
              inner.or([
                inner('earlier.created_at', '<', inner.ref('message.created_at')),
                inner.and([inner('earlier.created_at', '=', inner.ref('message.created_at')), inner('earlier.id', '<', inner.ref('message.id'))]),
              ]),
            ),
        ),
      ),
    )
    .orderBy('message.created_at')
    .orderBy('message.id')
    .limit(limit)
    .execute();
}

export interface ClaimRequest {
  readonly id: string;
  /** The attempt count read with the message; a claim fails if another relay counted an attempt since. */
  readonly attempts: number;
  readonly token: string;
  readonly now: string;
  readonly leaseUntil: string;
}

/**
 * Takes the lease on a message. Resolves false when another relay has leased or sent it, or counted
 * an attempt since it was read. The row count of this one conditional UPDATE decides, so two relays
 * never both win.
 */
export async function claimMessage(ledger: Kysely<LedgerDatabase>, claim: ClaimRequest): Promise<boolean> {
  const result = await withDeliveryColumns(ledger)
    .updateTable('ledger_outbox')
    .set({ lease_until: claim.leaseUntil, lease_token: claim.token })
    .where('id', '=', claim.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', claim.attempts)
    .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', claim.now)]))
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', claim.now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export type AttemptOutcome =
  | { readonly kind: 'sent'; readonly sentAt: string }
  | { readonly kind: 'retry'; readonly error: string; readonly nextAttemptAt: string }
  | { readonly kind: 'failed'; readonly error: string };

/**
 * Records the outcome of attempt number `attempt` and ends the lease. A sent message loses the error
 * of an earlier attempt, since it no longer describes the message; `attempts` still shows the
 * retries. Resolves false when the lease under `token` was lost (it expired and another relay
 * claimed the message), so nothing changed.
 */
export async function recordAttempt(
  ledger: Kysely<LedgerDatabase>,
  target: { readonly id: string; readonly token: string; readonly attempt: number },
  outcome: AttemptOutcome,
): Promise<boolean> {
  const common = { attempts: target.attempt, lease_until: null, lease_token: null };
  const values =
    outcome.kind === 'sent'
      ? { ...common, status: 'sent', sent_at: outcome.sentAt, next_attempt_at: null, last_error: null }
      : outcome.kind === 'retry'
        ? { ...common, status: 'pending', last_error: outcome.error, next_attempt_at: outcome.nextAttemptAt }
        : { ...common, status: 'failed', last_error: outcome.error, next_attempt_at: null };
  const result = await withDeliveryColumns(ledger)
    .updateTable('ledger_outbox')
    .set(values)
    .where('id', '=', target.id)
    .where('lease_token', '=', target.token)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
