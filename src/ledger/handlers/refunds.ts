import type { Insertable } from 'kysely';
import { toFlag, toInteger } from '../columns.js';
import { enqueueOutboxMessage } from '../outbox.js';
import type { RefundsTable } from '../schema.js';
import { chargeSchema, metadataString, parseStripeObject, refundSchema, stripeObjectType, type Refund } from '../stripe-objects.js';
import { isNewer, rankIn } from '../versions.js';
import { applyOrderFacts } from './orders.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';

/**
 * Refunds arrive as Refund events (`refund.*`, `charge.refund.updated`), which carry one refund,
 * and as `charge.refunded`, which carries the charge's running total. One refund described by
 * both counts once: refund rows are keyed by refund id, and the order's refunded total is derived
 * from the rows and the newest charge total (`refundedAmount`) rather than summed over events.
 */

const REFUND_LIFECYCLE = [['requires_action'], ['pending'], ['succeeded'], ['failed', 'canceled']] as const;

export function refundRank(status: string | null): number {
  return rankIn(REFUND_LIFECYCLE, status);
}

function refundValues(context: HandlerContext, refund: Refund): Insertable<RefundsTable> {
  return {
    account: context.account,
    refund_id: refund.id,
    charge: refund.charge,
    payment_intent: refund.payment_intent,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason,
    failure_reason: refund.failure_reason,
    refund_created: refund.created,
    livemode: toFlag(context.event.livemode),
    last_event_created: context.event.created,
    last_event_id: context.event.id,
  };
}

/** Writes the refund row; the newest event's snapshot wins, and ids it lacks are kept. */
async function upsertRefund(context: HandlerContext, refund: Refund): Promise<void> {
  const { trx, account } = context;
  const existing = await trx
    .selectFrom('ledger_refunds')
    .selectAll()
    .where('account', '=', account)
    .where('refund_id', '=', refund.id)
    .executeTakeFirst();
  const values = refundValues(context, refund);
  if (existing === undefined) {
    await trx.insertInto('ledger_refunds').values(values).execute();
    return;
  }
  const current = { created: toInteger(existing.last_event_created), rank: refundRank(existing.status), eventId: existing.last_event_id };
  const update = isNewer(versionOf(context, refundRank(refund.status)), current)
    ? { ...values, charge: refund.charge ?? existing.charge, payment_intent: refund.payment_intent ?? existing.payment_intent }
    : { charge: existing.charge ?? refund.charge, payment_intent: existing.payment_intent ?? refund.payment_intent };
  await trx.updateTable('ledger_refunds').set(update).where('account', '=', account).where('refund_id', '=', refund.id).execute();
}

async function recordRefund(context: HandlerContext): Promise<void> {
  const refund = parseStripeObject(context.event, refundSchema);
  await upsertRefund(context, refund);
  context.effects.push(`refund:${refund.id}`);

  if (refund.payment_intent !== null || refund.charge !== null) {
    // Refresh the order's refunded total and status; the ledger may not have seen the payment yet.
    await applyOrderFacts(context, {
      ids: { paymentIntent: refund.payment_intent, charge: refund.charge, orderReference: metadataString(refund.metadata, 'order_id') },
      currency: refund.currency,
    });
  }

  if (refund.status === 'pending' || refund.status === 'succeeded') {
    const inserted = await enqueueOutboxMessage(context.trx, {
      topic: 'refund.recorded',
      dedupeKey: `refund.recorded:${context.account}:${refund.id}`,
      account: context.account,
      payload: {
        account: context.account,
        refund: refund.id,
        charge: refund.charge,
        payment_intent: refund.payment_intent,
        amount: refund.amount,
        currency: refund.currency,
        status: refund.status,
        reason: refund.reason,
      },
      eventId: context.event.id,
      now: context.now,
    });
    if (inserted) context.effects.push('outbox:refund.recorded');
  }
}

async function recordChargeRefunds(context: HandlerContext): Promise<void> {
  const charge = parseStripeObject(context.event, chargeSchema);
  await applyOrderFacts(context, {
    ids: { charge: charge.id, paymentIntent: charge.payment_intent, orderReference: metadataString(charge.metadata, 'order_id'), customer: charge.customer },
    currency: charge.currency,
    amountTotal: charge.amount,
    // A charge with refunds was captured, so what it captured was paid whatever else arrived.
    amountPaid: charge.amount_captured,
    chargeAmountRefunded: charge.amount_refunded ?? 0,
  });
}

async function handleRefund(context: HandlerContext): Promise<void> {
  const type = stripeObjectType(context.event);
  if (type === 'refund') return recordRefund(context);
  if (type === 'charge') return recordChargeRefunds(context);
  throw unsupportedObject(context, type);
}

export const refundHandlers = {
  handle_refund: handleRefund,
} satisfies HandlerTable;
