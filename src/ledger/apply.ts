import type { Kysely } from 'kysely';
import type { Decision } from '../decision/types.js';
import { envelopeOf, type StripeEvent } from '../domain/stripe-event.js';
import { NonRetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../store/ports.js';
import { accountKey } from './columns.js';
import type { Handler, HandlerContext } from './handlers/context.js';
import { LEDGER_HANDLERS } from './handlers/index.js';
import type { LedgerDatabase } from './schema.js';

export type ApplyOutcome =
  | { readonly applied: true; readonly effects: string[] }
  /** The marker for this event id exists, so an earlier delivery or attempt already applied it. */
  | { readonly applied: false; readonly reason: 'already_applied' };

export interface ApplyInput {
  readonly event: StripeEvent;
  readonly decision: Decision;
}

export interface ApplyOptions {
  /** Wall clock for `applied_at` and `created_at` columns; ordering never reads it. */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Actions that write only the applied marker. */
const MARKER_ONLY_ACTIONS = new Set<string>(['ignore_event', 'invoke_ai_enrichment']);

/**
 * Applies one event to the ledger in one transaction (a transactional inbox). The "event applied"
 * marker is inserted first with ON CONFLICT DO NOTHING; when no row was inserted the event was
 * already applied and nothing changes. Concurrent workers on PostgreSQL block on the same marker
 * key, so only one of them applies the event. Then the handler for `decision.action` writes
 * business rows and outbox messages. If the handler raises, the transaction rolls back, marker
 * included, so a retry applies the event from scratch. The marker, not the queue, is the
 * authority on what was applied.
 *
 * NOTE: on SQLite the transaction stays open across awaits. Any other code that writes through the
 * same better-sqlite3 handle meanwhile (the embedded event store does) joins this transaction and
 * is rolled back with it, so such writers must be serialised with applyEvent.
 */
export async function applyEvent(db: Kysely<LedgerDatabase>, input: ApplyInput, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const { event, decision } = input;
  const envelope = envelopeOf(event);
  const now = new Date((options.clock ?? systemClock)());
  const logFields = { eventId: event.id, eventType: event.type, action: decision.action };

  const outcome = await db.transaction().execute(async (trx): Promise<ApplyOutcome> => {
    const marker = await trx
      .insertInto('ledger_applied_events')
      .values({
        event_id: event.id,
        event_type: event.type,
        action: decision.action,
        account: accountKey(envelope.account),
        event_created: envelope.created,
        applied_at: now.toISOString(),
      })
      .onConflict((conflict) => conflict.column('event_id').doNothing())
      .executeTakeFirst();
    if (Number(marker.numInsertedOrUpdatedRows ?? 0) === 0) return { applied: false, reason: 'already_applied' };

    if (MARKER_ONLY_ACTIONS.has(decision.action)) return { applied: true, effects: [] };
    if (event.object !== 'event') {
      throw new NonRetryableError(`Event ${event.id} is a thin event with no object, so action ${decision.action} cannot be applied to the ledger.`, {
        context: logFields,
      });
    }
    // A decision read back from the event store may name an action this version does not know.
    const handler: Handler | undefined = (LEDGER_HANDLERS as Readonly<Record<string, Handler>>)[decision.action];
    if (handler === undefined) {
      throw new NonRetryableError(`No ledger handler exists for action "${decision.action}".`, { context: logFields });
    }
    const context: HandlerContext = { trx, event, decision, account: accountKey(event.account), now, effects: [] };
    await handler(context);
    return { applied: true, effects: context.effects };
  });

  if (outcome.applied) {
    options.logger?.debug({ ...logFields, effects: outcome.effects.length }, 'ledger event applied');
  } else {
    options.logger?.info(logFields, 'ledger event already applied');
  }
  return outcome;
}
