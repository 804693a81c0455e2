import type { Kysely } from 'kysely';
import type { LedgerDatabase, OutboxTable } from '../ledger/schema.js';

/** Columns of `ledger_outbox` that migration `0003_outbox_delivery` adds for the relay. */
export interface OutboxDeliveryColumns {
  /** When the next attempt is due, ISO-8601; null means at once. */
  next_attempt_at: string | null;
  /** Error of the most recent failed attempt; kept after a later success. */
  last_error: string | null;
  /** End of the lease a relay has on the message, ISO-8601. Null or past means any relay may claim it. */
  lease_until: string | null;
  /** Random token of the relay holding the lease; an outcome is recorded only under the same token. */
  lease_token: string | null;
}

export type OutboxDeliveryRow = OutboxTable & OutboxDeliveryColumns;

export type OutboxDeliveryDatabase = Omit<LedgerDatabase, 'ledger_outbox'> & { ledger_outbox: OutboxDeliveryRow };

/** Returns the ledger typed with the delivery columns, which `ledger/schema.ts` does not declare. */
export function withDeliveryColumns(ledger: Kysely<LedgerDatabase>): Kysely<OutboxDeliveryDatabase> {
  return ledger.withTables<{ ledger_outbox: OutboxDeliveryColumns }>();
}
