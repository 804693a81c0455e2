import type { Selectable } from 'kysely';
import { fromFlag, fromNullableFlag, toInteger, toNullableInteger } from './columns.js';
import type {
  CustomersTable,
  DisputesTable,
  EarlyFraudWarningsTable,
  InvoicesTable,
  ManualReviewsTable,
  OrdersTable,
  RadarReviewsTable,
  RefundsTable,
  SubscriptionsTable,
} from './schema.js';

/**
 * Plain records of the ledger rows, as the admin API and snapshots show them: column names kept,
 * integers as numbers, flags as booleans, and no surrogate ids or wall-clock columns.
 */

export function orderRecord(row: Selectable<OrdersTable>) {
  return {
    account: row.account,
    order_reference: row.order_reference,
    checkout_session: row.checkout_session,
    payment_intent: row.payment_intent,
    charge: row.charge,
    customer: row.customer,
    status: row.status,
    payment_outcome: row.payment_outcome,
    currency: row.currency,
    amount_total: toNullableInteger(row.amount_total),
    amount_paid: toInteger(row.amount_paid),
    amount_refunded: toInteger(row.amount_refunded),
    charge_amount_refunded: toInteger(row.charge_amount_refunded),
    charge_amount_refunded_event_created: toNullableInteger(row.charge_amount_refunded_event_created),
    application_fee_amount: toNullableInteger(row.application_fee_amount),
    failure_code: row.failure_code,
    decline_code: row.decline_code,
    retryable: fromNullableFlag(row.retryable),
    on_hold: fromFlag(row.on_hold),
    payment_outcome_event_created: toNullableInteger(row.payment_outcome_event_created),
    payment_outcome_event_id: row.payment_outcome_event_id,
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function refundRecord(row: Selectable<RefundsTable>) {
  return {
    account: row.account,
    refund_id: row.refund_id,
    charge: row.charge,
    payment_intent: row.payment_intent,
    amount: toInteger(row.amount),
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    failure_reason: row.failure_reason,
    refund_created: toInteger(row.refund_created),
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function customerRecord(row: Selectable<CustomersTable>) {
  return {
    account: row.account,
    customer_id: row.customer_id,
    email: row.email,
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function subscriptionRecord(row: Selectable<SubscriptionsTable>) {
  return {
    account: row.account,
    subscription_id: row.subscription_id,
    customer: row.customer,
    status: row.status,
    access: fromFlag(row.access),
    price: row.price,
    current_period_start: toNullableInteger(row.current_period_start),
    current_period_end: toNullableInteger(row.current_period_end),
    default_payment_method: row.default_payment_method,
    has_payment_method: fromFlag(row.has_payment_method),
    latest_invoice: row.latest_invoice,
    trial_end: toNullableInteger(row.trial_end),
    cancel_at_period_end: fromFlag(row.cancel_at_period_end),
    canceled_at: toNullableInteger(row.canceled_at),
    ended_at: toNullableInteger(row.ended_at),
    cancellation_reason: row.cancellation_reason,
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function invoiceRecord(row: Selectable<InvoicesTable>) {
  return {
    account: row.account,
    invoice_id: row.invoice_id,
    number: row.number,
    customer: row.customer,
    subscription: row.subscription,
    status: row.status,
    currency: row.currency,
    amount_due: toInteger(row.amount_due),
    amount_paid: toInteger(row.amount_paid),
    attempt_count: toInteger(row.attempt_count),
    next_payment_attempt: toNullableInteger(row.next_payment_attempt),
    billing_reason: row.billing_reason,
    invoice_created: toInteger(row.invoice_created),
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function disputeRecord(row: Selectable<DisputesTable>) {
  return {
    account: row.account,
    dispute_id: row.dispute_id,
    charge: row.charge,
    payment_intent: row.payment_intent,
    status: row.status,
    reason: row.reason,
    amount: toInteger(row.amount),
    currency: row.currency,
    evidence_due_by: toNullableInteger(row.evidence_due_by),
    funds_withdrawn: toInteger(row.funds_withdrawn),
    funds_reinstated: toInteger(row.funds_reinstated),
    dispute_fee: toInteger(row.dispute_fee),
    net_loss: toNullableInteger(row.net_loss),
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function earlyFraudWarningRecord(row: Selectable<EarlyFraudWarningsTable>) {
  return {
    account: row.account,
    warning_id: row.warning_id,
    charge: row.charge,
    payment_intent: row.payment_intent,
    fraud_type: row.fraud_type,
    actionable: fromFlag(row.actionable),
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function radarReviewRecord(row: Selectable<RadarReviewsTable>) {
  return {
    account: row.account,
    review_id: row.review_id,
    charge: row.charge,
    payment_intent: row.payment_intent,
    open: fromFlag(row.open),
    reason: row.reason,
    opened_reason: row.opened_reason,
    closed_reason: row.closed_reason,
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export function manualReviewRecord(row: Selectable<ManualReviewsTable>) {
  return {
    account: row.account,
    subject_id: row.subject_id,
    kind: row.kind,
    priority: row.priority,
    reason: row.reason,
    status: row.status,
    payment_intent: row.payment_intent,
    charge: row.charge,
    opened_event_id: row.opened_event_id,
    opened_event_created: toInteger(row.opened_event_created),
    livemode: fromFlag(row.livemode),
    last_event_created: toInteger(row.last_event_created),
    last_event_id: row.last_event_id,
  };
}

export type OrderRecord = ReturnType<typeof orderRecord>;
export type RefundRecord = ReturnType<typeof refundRecord>;
export type CustomerRecord = ReturnType<typeof customerRecord>;
export type SubscriptionRecord = ReturnType<typeof subscriptionRecord>;
export type InvoiceRecord = ReturnType<typeof invoiceRecord>;
export type DisputeRecord = ReturnType<typeof disputeRecord>;
export type EarlyFraudWarningRecord = ReturnType<typeof earlyFraudWarningRecord>;
export type RadarReviewRecord = ReturnType<typeof radarReviewRecord>;
export type ManualReviewRecord = ReturnType<typeof manualReviewRecord>;
