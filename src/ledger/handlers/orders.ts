import { enqueueOutboxMessage } from '../outbox.js';
import { orderRootId, outcomeRank, type OrderFacts, type PaymentOutcome } from '../state/order-state.js';
import { upsertOrder, type OrderUpsert } from '../state/orders.js';
import {
  chargeSchema,
  checkoutSessionSchema,
  metadataString,
  parseStripeObject,
  paymentIntentSchema,
  stripeObjectType,
  type Charge,
  type CheckoutSession,
  type PaymentIntent,
} from '../stripe-objects.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';

/**
 * Order handlers. Checkout Sessions, PaymentIntents and charges describe one payment, and each
 * event folds its facts into the order row (see `state/order-state.ts`).
 */

interface OutcomeDetails {
  readonly failureCode?: string | null;
  readonly declineCode?: string | null;
  readonly retryable?: boolean | null;
}

function outcomeFacts(context: HandlerContext, value: PaymentOutcome, details: OutcomeDetails = {}): OrderFacts['outcome'] {
  return {
    value,
    version: versionOf(context, outcomeRank(value)),
    failureCode: details.failureCode ?? null,
    declineCode: details.declineCode ?? null,
    retryable: details.retryable ?? null,
  };
}

function orderReferenceOf(metadata: Record<string, unknown>): string | null {
  return metadataString(metadata, 'order_id') ?? metadataString(metadata, 'platform_order_id');
}

function checkoutSessionFacts(session: CheckoutSession): OrderFacts {
  return {
    ids: {
      checkoutSession: session.id,
      paymentIntent: session.payment_intent,
      orderReference: session.client_reference_id ?? orderReferenceOf(session.metadata),
      customer: session.customer,
    },
    currency: session.currency,
    amountTotal: session.amount_total,
  };
}

function paymentIntentFacts(intent: PaymentIntent): OrderFacts {
  return {
    ids: { paymentIntent: intent.id, orderReference: orderReferenceOf(intent.metadata), customer: intent.customer },
    currency: intent.currency,
    amountTotal: intent.amount,
    applicationFeeAmount: intent.application_fee_amount,
  };
}

function chargeFacts(charge: Charge): OrderFacts {
  return {
    ids: { charge: charge.id, paymentIntent: charge.payment_intent, orderReference: orderReferenceOf(charge.metadata), customer: charge.customer },
    currency: charge.currency,
    amountTotal: charge.amount,
    applicationFeeAmount: charge.application_fee_amount,
  };
}

/** Builds the facts of a successful payment event: ids, amounts, and whether a manual review puts it on hold. */
export function paidOrderFacts(context: HandlerContext, onHold: boolean): OrderFacts {
  const paid = outcomeFacts(context, 'paid');
  const type = stripeObjectType(context.event);
  switch (type) {
    case 'checkout.session': {
      const session = parseStripeObject(context.event, checkoutSessionSchema);
      return { ...checkoutSessionFacts(session), amountPaid: session.amount_total ?? 0, outcome: paid, onHold };
    }
    case 'payment_intent': {
      const intent = parseStripeObject(context.event, paymentIntentSchema);
      const facts = paymentIntentFacts(intent);
      return {
        ...facts,
        ids: { ...facts.ids, charge: intent.latest_charge },
        amountPaid: intent.amount_received ?? intent.amount,
        outcome: paid,
        onHold,
      };
    }
    case 'charge': {
      // NOTE: a charge authorised for later capture (`captured: false`) is recorded as paid, with amount_paid 0.
      const charge = parseStripeObject(context.event, chargeSchema);
      return { ...chargeFacts(charge), amountPaid: charge.amount_captured ?? charge.amount, outcome: paid, onHold };
    }
    case null:
    default:
      throw unsupportedObject(context, type);
  }
}

/** Writes the order and records the effect; the caller decides which messages follow. */
export async function applyOrderFacts(context: HandlerContext, facts: OrderFacts): Promise<OrderUpsert> {
  const { event } = context;
  const result = await upsertOrder(context.trx, facts, { account: context.account, id: event.id, created: event.created, livemode: event.livemode });
  context.effects.push(`order:${orderRootId(result.after)}`);
  return result;
}

async function sendOrderMessages(context: HandlerContext, { after }: OrderUpsert): Promise<void> {
  const root = orderRootId(after);
  const payload = {
    account: after.account,
    order_reference: after.orderReference,
    checkout_session: after.checkoutSession,
    payment_intent: after.paymentIntent,
    charge: after.charge,
    currency: after.currency,
    amount_total: after.amountTotal,
    amount_paid: after.amountPaid,
  };
  const outcome = after.outcome?.value;
  // An older event can arrive after a newer one; messages follow the order's merged outcome, not the event.
  if (outcome === 'paid' && !after.onHold) {
    const dedupeKey = `order.paid:${after.account}:${root}`;
    const inserted = await enqueueOutboxMessage(context.trx, { topic: 'order.paid', dedupeKey, account: after.account, payload, eventId: context.event.id, now: context.now });
    if (inserted) context.effects.push('outbox:order.paid');
  }
  if (outcome === 'payment_failed') {
    // NOTE: one message per order, so a second declined attempt on the same PaymentIntent sends none.
    const dedupeKey = `order.payment_failed:${after.account}:${root}`;
    const failurePayload = { ...payload, failure_code: after.outcome?.failureCode ?? null, decline_code: after.outcome?.declineCode ?? null };
    const inserted = await enqueueOutboxMessage(context.trx, {
      topic: 'order.payment_failed',
      dedupeKey,
      account: after.account,
      payload: failurePayload,
      eventId: context.event.id,
      now: context.now,
    });
    if (inserted) context.effects.push('outbox:order.payment_failed');
  }
}

async function markOrderPaid(context: HandlerContext): Promise<void> {
  const result = await applyOrderFacts(context, paidOrderFacts(context, false));
  await sendOrderMessages(context, result);
}

async function markOrderAwaitingPayment(context: HandlerContext): Promise<void> {
  const type = stripeObjectType(context.event);
  const awaiting = outcomeFacts(context, 'awaiting_payment');
  let facts: OrderFacts;
  if (type === 'checkout.session') {
    facts = { ...checkoutSessionFacts(parseStripeObject(context.event, checkoutSessionSchema)), outcome: awaiting };
  } else if (type === 'payment_intent') {
    facts = { ...paymentIntentFacts(parseStripeObject(context.event, paymentIntentSchema)), outcome: awaiting };
  } else {
    throw unsupportedObject(context, type);
  }
  await applyOrderFacts(context, facts);
}

/** Records a failed payment on an order (Checkout Session, PaymentIntent or charge). */
export async function markOrderPaymentFailed(context: HandlerContext): Promise<void> {
  const type = stripeObjectType(context.event);
  let facts: OrderFacts;
  if (type === 'checkout.session') {
    facts = { ...checkoutSessionFacts(parseStripeObject(context.event, checkoutSessionSchema)), outcome: outcomeFacts(context, 'payment_failed') };
  } else if (type === 'payment_intent') {
    const intent = parseStripeObject(context.event, paymentIntentSchema);
    facts = {
      ...paymentIntentFacts(intent),
      outcome: outcomeFacts(context, 'payment_failed', {
        failureCode: intent.last_payment_error?.code ?? null,
        declineCode: intent.last_payment_error?.decline_code ?? null,
        // Stripe returns the PaymentIntent to requires_payment_method when the customer may try again.
        retryable: intent.status === 'requires_payment_method',
      }),
    };
  } else if (type === 'charge') {
    const charge = parseStripeObject(context.event, chargeSchema);
    const base = chargeFacts(charge);
    // A failed charge is not the order's charge, unless no PaymentIntent exists to find the order by.
    const ids = { ...base.ids, charge: charge.payment_intent === null ? charge.id : null };
    facts = { ...base, ids, outcome: outcomeFacts(context, 'payment_failed', { failureCode: charge.failure_code }) };
  } else {
    throw unsupportedObject(context, type);
  }
  await sendOrderMessages(context, await applyOrderFacts(context, facts));
}

async function cancelOrder(context: HandlerContext): Promise<void> {
  const type = stripeObjectType(context.event);
  let facts: OrderFacts;
  if (type === 'checkout.session') {
    facts = { ...checkoutSessionFacts(parseStripeObject(context.event, checkoutSessionSchema)), outcome: outcomeFacts(context, 'expired') };
  } else if (type === 'payment_intent') {
    facts = { ...paymentIntentFacts(parseStripeObject(context.event, paymentIntentSchema)), outcome: outcomeFacts(context, 'canceled') };
  } else {
    throw unsupportedObject(context, type);
  }
  await applyOrderFacts(context, facts);
}

export const orderHandlers = {
  mark_order_paid: markOrderPaid,
  mark_order_awaiting_payment: markOrderAwaitingPayment,
  cancel_order: cancelOrder,
} satisfies HandlerTable;
