import { randomUUID } from 'node:crypto';
import type { Insertable, Selectable, Transaction } from 'kysely';
import { NonRetryableError } from '../../errors.js';
import { fromFlag, fromNullableFlag, toFlag, toInteger, toNullableInteger } from '../columns.js';
import type { LedgerDatabase, OrdersTable } from '../schema.js';
import {
  mergeOrderStates,
  orderStatus,
  outcomeRank,
  PAYMENT_OUTCOMES,
  refundedAmount,
  stateFromFacts,
  type OrderEvent,
  type OrderFacts,
  type OrderState,
  type OutcomeFacts,
  type PaymentOutcome,
  type RefundAmountRow,
} from './order-state.js';

type OrderRow = Selectable<OrdersTable>;

function isPaymentOutcome(value: string): value is PaymentOutcome {
  return (PAYMENT_OUTCOMES as readonly string[]).includes(value);
}

function outcomeFromRow(row: OrderRow): OutcomeFacts | null {
  const created = toNullableInteger(row.payment_outcome_event_created);
  if (row.payment_outcome === null || !isPaymentOutcome(row.payment_outcome) || created === null || row.payment_outcome_event_id === null) {
    return null;
  }
  return {
    value: row.payment_outcome,
    version: { created, rank: outcomeRank(row.payment_outcome), eventId: row.payment_outcome_event_id },
    failureCode: row.failure_code,
    declineCode: row.decline_code,
    retryable: fromNullableFlag(row.retryable),
  };
}

export function orderStateFromRow(row: OrderRow): OrderState {
  return {
    account: row.account,
    orderReference: row.order_reference,
    checkoutSession: row.checkout_session,
    paymentIntent: row.payment_intent,
    charge: row.charge,
    customer: row.customer,
    currency: row.currency,
    amountTotal: toNullableInteger(row.amount_total),
    amountPaid: toInteger(row.amount_paid),
    chargeAmountRefunded: toInteger(row.charge_amount_refunded),
    chargeAmountRefundedEventCreated: toNullableInteger(row.charge_amount_refunded_event_created),
    applicationFeeAmount: toNullableInteger(row.application_fee_amount),
    outcome: outcomeFromRow(row),
    onHold: fromFlag(row.on_hold),
    livemode: fromFlag(row.livemode),
    lastEvent: { created: toInteger(row.last_event_created), eventId: row.last_event_id },
  };
}

function rowValues(id: string, state: OrderState, amountRefunded: number): Insertable<OrdersTable> {
  return {
    id,
    account: state.account,
    order_reference: state.orderReference,
    checkout_session: state.checkoutSession,
    payment_intent: state.paymentIntent,
    charge: state.charge,
    customer: state.customer,
    currency: state.currency,
    amount_total: state.amountTotal,
    amount_paid: state.amountPaid,
    amount_refunded: amountRefunded,
    charge_amount_refunded: state.chargeAmountRefunded,
    charge_amount_refunded_event_created: state.chargeAmountRefundedEventCreated,
    application_fee_amount: state.applicationFeeAmount,
    payment_outcome: state.outcome?.value ?? null,
    status: orderStatus(state, amountRefunded),
    payment_outcome_event_created: state.outcome?.version.created ?? null,
    payment_outcome_event_id: state.outcome?.version.eventId ?? null,
    failure_code: state.outcome?.failureCode ?? null,
    decline_code: state.outcome?.declineCode ?? null,
    retryable: state.outcome === null || state.outcome.retryable === null ? null : toFlag(state.outcome.retryable),
    on_hold: toFlag(state.onHold),
    livemode: toFlag(state.livemode),
    last_event_created: state.lastEvent.created,
    last_event_id: state.lastEvent.eventId,
  };
}

/** Loads the refund rows that belong to the payment. */
async function refundRowsOf(trx: Transaction<LedgerDatabase>, state: OrderState): Promise<RefundAmountRow[]> {
  const { paymentIntent, charge } = state;
  if (paymentIntent === null && charge === null) return [];
  const rows = await trx
    .selectFrom('ledger_refunds')
    .select(['amount', 'status', 'refund_created', 'last_event_created'])
    .where('account', '=', state.account)
    .where((where) => {
      const matches = [];
      if (paymentIntent !== null) matches.push(where('payment_intent', '=', paymentIntent));
      if (charge !== null) matches.push(where('charge', '=', charge));
      return where.or(matches);
    })
    .execute();
  return rows.map((row) => ({
    amount: toInteger(row.amount),
    status: row.status,
    refundCreated: toInteger(row.refund_created),
    lastEventCreated: toInteger(row.last_event_created),
  }));
}

export interface OrderUpsert {
  /** The order before this event, or null when the ledger had not seen it. */
  readonly before: OrderState | null;
  readonly after: OrderState;
  readonly amountRefunded: number;
}

/**
 * Folds one event's facts into the order found by any of its ids (PaymentIntent, Checkout
 * Session, charge), creating the order when none matches. When the event links two rows that
 * earlier events created separately (a session seen without its PaymentIntent, say), they are
 * merged into one. Derived columns (refunded total, status) are recomputed on every write.
 */
export async function upsertOrder(trx: Transaction<LedgerDatabase>, facts: OrderFacts, event: OrderEvent): Promise<OrderUpsert> {
  const { paymentIntent, checkoutSession, charge } = facts.ids;
  if (!paymentIntent && !checkoutSession && !charge) {
    throw new NonRetryableError(`Event ${event.id} names no PaymentIntent, Checkout Session or charge, so no order can be found or created for it.`, {
      context: { eventId: event.id },
    });
  }
  const rows = await trx
    .selectFrom('ledger_orders')
    .selectAll()
    .where('account', '=', event.account)
    .where((where) => {
      const matches = [];
      if (paymentIntent) matches.push(where('payment_intent', '=', paymentIntent));
      if (checkoutSession) matches.push(where('checkout_session', '=', checkoutSession));
      if (charge) matches.push(where('charge', '=', charge));
      return where.or(matches);
    })
    .orderBy('id')
    .execute();

  const existing = rows.map(orderStateFromRow);
  const before = existing.length === 0 ? null : existing.reduce(mergeOrderStates);
  const incoming = stateFromFacts(facts, event);
  const after = before === null ? incoming : mergeOrderStates(before, incoming);
  const amountRefunded = refundedAmount(after, await refundRowsOf(trx, after));

  const [survivor, ...merged] = rows;
  if (merged.length > 0) {
    // Delete the extra rows first: the survivor is about to take over their unique ids.
    await trx
      .deleteFrom('ledger_orders')
      .where(
        'id',
        'in',
        merged.map((row) => row.id),
      )
      .execute();
  }
  if (survivor === undefined) {
    await trx.insertInto('ledger_orders').values(rowValues(randomUUID(), after, amountRefunded)).execute();
  } else {
    const { id, ...values } = rowValues(survivor.id, after, amountRefunded);
    await trx.updateTable('ledger_orders').set(values).where('id', '=', id).execute();
  }
  return { before, after, amountRefunded };
}
