import type { Kysely } from 'kysely';
import {
  customerRecord,
  disputeRecord,
  earlyFraudWarningRecord,
  invoiceRecord,
  manualReviewRecord,
  orderRecord,
  radarReviewRecord,
  refundRecord,
  subscriptionRecord,
  type CustomerRecord,
  type DisputeRecord,
  type EarlyFraudWarningRecord,
  type InvoiceRecord,
  type ManualReviewRecord,
  type OrderRecord,
  type RadarReviewRecord,
  type RefundRecord,
  type SubscriptionRecord,
} from './records.js';
import type { LedgerDatabase } from './schema.js';

/**
 * Every business table's rows as plain records, sorted by their Stripe ids. Snapshots leave out
 * surrogate ids, wall-clock columns, the applied markers and the outbox, so two ledgers that hold
 * the same business state compare equal whatever order their events arrived in.
 */
export interface LedgerSnapshot {
  readonly orders: OrderRecord[];
  readonly refunds: RefundRecord[];
  readonly customers: CustomerRecord[];
  readonly subscriptions: SubscriptionRecord[];
  readonly invoices: InvoiceRecord[];
  readonly disputes: DisputeRecord[];
  readonly early_fraud_warnings: EarlyFraudWarningRecord[];
  readonly radar_reviews: RadarReviewRecord[];
  readonly manual_reviews: ManualReviewRecord[];
}

/** Sorts by the given key parts in JS, because SQLite and PostgreSQL order NULLs differently. */
function sortedBy<T>(records: T[], keyOf: (record: T) => (string | null)[]): T[] {
  const key = (record: T): string => keyOf(record).map((part) => part ?? '').join('\u0000');
  return records.sort((left, right) => {
    const leftKey = key(left);
    const rightKey = key(right);
    if (leftKey === rightKey) return 0;
    return leftKey < rightKey ? -1 : 1;
  });
}

export async function snapshotLedger(db: Kysely<LedgerDatabase>): Promise<LedgerSnapshot> {
  const [orders, refunds, customers, subscriptions, invoices, disputes, warnings, radarReviews, manualReviews] = await Promise.all([
    db.selectFrom('ledger_orders').selectAll().execute(),
    db.selectFrom('ledger_refunds').selectAll().execute(),
    db.selectFrom('ledger_customers').selectAll().execute(),
    db.selectFrom('ledger_subscriptions').selectAll().execute(),
    db.selectFrom('ledger_invoices').selectAll().execute(),
    db.selectFrom('ledger_disputes').selectAll().execute(),
    db.selectFrom('ledger_early_fraud_warnings').selectAll().execute(),
    db.selectFrom('ledger_radar_reviews').selectAll().execute(),
    db.selectFrom('ledger_manual_reviews').selectAll().execute(),
  ]);
  return {
    orders: sortedBy(orders.map(orderRecord), (order) => [order.account, order.payment_intent, order.checkout_session, order.charge]),
    refunds: sortedBy(refunds.map(refundRecord), (refund) => [refund.account, refund.refund_id]),
    customers: sortedBy(customers.map(customerRecord), (customer) => [customer.account, customer.customer_id]),
    subscriptions: sortedBy(subscriptions.map(subscriptionRecord), (subscription) => [subscription.account, subscription.subscription_id]),
    invoices: sortedBy(invoices.map(invoiceRecord), (invoice) => [invoice.account, invoice.invoice_id]),
    disputes: sortedBy(disputes.map(disputeRecord), (dispute) => [dispute.account, dispute.dispute_id]),
    early_fraud_warnings: sortedBy(warnings.map(earlyFraudWarningRecord), (warning) => [warning.account, warning.warning_id]),
    radar_reviews: sortedBy(radarReviews.map(radarReviewRecord), (review) => [review.account, review.review_id]),
    manual_reviews: sortedBy(manualReviews.map(manualReviewRecord), (review) => [review.account, review.kind, review.subject_id]),
  };
}
