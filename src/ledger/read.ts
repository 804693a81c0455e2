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

export { snapshotLedger, type LedgerSnapshot } from './snapshot.js';

/** A ledger record found by one of its Stripe ids, with the records around it. */
export type LedgerRecord =
  | { kind: 'order'; account: string; record: OrderRecord; related: { refunds: RefundRecord[]; disputes: DisputeRecord[]; manual_reviews: ManualReviewRecord[] } }
  | { kind: 'refund'; account: string; record: RefundRecord; related: { order: OrderRecord | null } }
  | { kind: 'subscription'; account: string; record: SubscriptionRecord; related: { customer: CustomerRecord | null; invoices: InvoiceRecord[] } }
  | { kind: 'invoice'; account: string; record: InvoiceRecord; related: { subscription: SubscriptionRecord | null } }
  | { kind: 'customer'; account: string; record: CustomerRecord; related: { subscriptions: SubscriptionRecord[] } }
  /** `related.order` is the order whose charge is disputed. */
  | { kind: 'dispute'; account: string; record: DisputeRecord; related: { order: OrderRecord | null; manual_reviews: ManualReviewRecord[] } }
  | { kind: 'early_fraud_warning'; account: string; record: EarlyFraudWarningRecord; related: { order: OrderRecord | null } }
  | { kind: 'radar_review'; account: string; record: RadarReviewRecord; related: { order: OrderRecord | null } };

type Db = Kysely<LedgerDatabase>;
type Finder = (db: Db, id: string, account: string | undefined) => Promise<LedgerRecord | null>;

/** Finds the order that a payment child (refund, dispute, warning, review) belongs to. */
async function orderOfPayment(db: Db, account: string, paymentIntent: string | null, charge: string | null): Promise<OrderRecord | null> {
  if (paymentIntent === null && charge === null) return null;
  const row = await db
    .selectFrom('ledger_orders')
    .selectAll()
    .where('account', '=', account)
    .where((where) => {
      const matches = [];
      if (paymentIntent !== null) matches.push(where('payment_intent', '=', paymentIntent));
      if (charge !== null) matches.push(where('charge', '=', charge));
      return where.or(matches);
    })
    .executeTakeFirst();
  return row === undefined ? null : orderRecord(row);
}

async function reviewsOf(db: Db, account: string, subjectIds: (string | null)[]): Promise<ManualReviewRecord[]> {
  const ids = subjectIds.filter((id): id is string => id !== null);
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('ledger_manual_reviews')
    .selectAll()
    .where('account', '=', account)
    .where((where) => where.or([where('subject_id', 'in', ids), where('payment_intent', 'in', ids), where('charge', 'in', ids)]))
    .orderBy('opened_event_created')
    .orderBy('kind')
    .execute();
  return rows.map(manualReviewRecord);
}

async function orderRelated(db: Db, order: OrderRecord): Promise<Extract<LedgerRecord, { kind: 'order' }>['related']> {
  const { account, payment_intent: paymentIntent, charge } = order;
  // Ids are never empty, so '' stands for an id the order does not have and matches nothing.
  const refunds = await db
    .selectFrom('ledger_refunds')
    .selectAll()
    .where('account', '=', account)
    .where((where) => where.or([where('payment_intent', '=', paymentIntent ?? ''), where('charge', '=', charge ?? '')]))
    .orderBy('refund_created')
    .orderBy('refund_id')
    .execute();
  const disputes = await db
    .selectFrom('ledger_disputes')
    .selectAll()
    .where('account', '=', account)
    .where((where) => where.or([where('payment_intent', '=', paymentIntent ?? ''), where('charge', '=', charge ?? '')]))
    .orderBy('dispute_id')
    .execute();
  const manualReviews = await reviewsOf(db, account, [paymentIntent, charge, order.checkout_session]);
  return { refunds: refunds.map(refundRecord), disputes: disputes.map(disputeRecord), manual_reviews: manualReviews };
}

const findOrder: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_orders')
    .selectAll()
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .where((where) => where.or([where('payment_intent', '=', id), where('checkout_session', '=', id), where('charge', '=', id), where('order_reference', '=', id)]))
    .orderBy('account')
    .orderBy('id')
    .executeTakeFirst();
  if (row === undefined) return null;
  const record = orderRecord(row);
  return { kind: 'order', account: row.account, record, related: await orderRelated(db, record) };
};

const findRefund: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_refunds')
    .selectAll()
    .where('refund_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  return { kind: 'refund', account: row.account, record: refundRecord(row), related: { order: await orderOfPayment(db, row.account, row.payment_intent, row.charge) } };
};

const findSubscription: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_subscriptions')
    .selectAll()
    .where('subscription_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  const customer = await db.selectFrom('ledger_customers').selectAll().where('account', '=', row.account).where('customer_id', '=', row.customer).executeTakeFirst();
  const invoices = await db
    .selectFrom('ledger_invoices')
    .selectAll()
    .where('account', '=', row.account)
    .where('subscription', '=', row.subscription_id)
    .orderBy('invoice_created')
    .orderBy('invoice_id')
    .execute();
  return {
    kind: 'subscription',
    account: row.account,
    record: subscriptionRecord(row),
    related: { customer: customer === undefined ? null : customerRecord(customer), invoices: invoices.map(invoiceRecord) },
  };
};

const findInvoice: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_invoices')
    .selectAll()
    .where('invoice_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  const subscription =
    row.subscription === null
      ? undefined
      : await db.selectFrom('ledger_subscriptions').selectAll().where('account', '=', row.account).where('subscription_id', '=', row.subscription).executeTakeFirst();
  return { kind: 'invoice', account: row.account, record: invoiceRecord(row), related: { subscription: subscription === undefined ? null : subscriptionRecord(subscription) } };
};

const findCustomer: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_customers')
    .selectAll()
    .where('customer_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  const subscriptions = await db
    .selectFrom('ledger_subscriptions')
    .selectAll()
    .where('account', '=', row.account)
    .where('customer', '=', row.customer_id)
    .orderBy('subscription_id')
    .execute();
  return { kind: 'customer', account: row.account, record: customerRecord(row), related: { subscriptions: subscriptions.map(subscriptionRecord) } };
};

const findDispute: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_disputes')
    .selectAll()
    .where('dispute_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    kind: 'dispute',
    account: row.account,
    record: disputeRecord(row),
    related: { order: await orderOfPayment(db, row.account, row.payment_intent, row.charge), manual_reviews: await reviewsOf(db, row.account, [row.dispute_id]) },
  };
};

const findEarlyFraudWarning: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_early_fraud_warnings')
    .selectAll()
    .where('warning_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  return { kind: 'early_fraud_warning', account: row.account, record: earlyFraudWarningRecord(row), related: { order: await orderOfPayment(db, row.account, row.payment_intent, row.charge) } };
};

const findRadarReview: Finder = async (db, id, account) => {
  const row = await db
    .selectFrom('ledger_radar_reviews')
    .selectAll()
    .where('review_id', '=', id)
    .$if(account !== undefined, (query) => query.where('account', '=', account ?? ''))
    .orderBy('account')
    .executeTakeFirst();
  if (row === undefined) return null;
  return { kind: 'radar_review', account: row.account, record: radarReviewRecord(row), related: { order: await orderOfPayment(db, row.account, row.payment_intent, row.charge) } };
};

/** Stripe id prefixes and the table each names. */
const FINDERS_BY_PREFIX: readonly (readonly [string, Finder])[] = [
  ['cs_', findOrder],
  ['pi_', findOrder],
  ['ch_', findOrder],
  ['py_', findOrder],
  ['re_', findRefund],
  ['pyr_', findRefund],
  ['sub_', findSubscription],
  ['in_', findInvoice],
  ['cus_', findCustomer],
  ['du_', findDispute],
  ['dp_', findDispute],
  ['issfr_', findEarlyFraudWarning],
  ['prv_', findRadarReview],
];

/**
 * Finds the ledger record for any Stripe id the ledger holds (cs_, pi_, ch_, re_, sub_, in_,
 * cus_, du_/dp_, issfr_, prv_) or for the user's own order reference (`order_10001`). Without
 * `account` every account is searched and the platform account (`''`) wins a tie, then the
 * lowest connected account id.
 */
export async function findLedgerRecord(db: Kysely<LedgerDatabase>, stripeObjectId: string, account?: string): Promise<LedgerRecord | null> {
  const byPrefix = FINDERS_BY_PREFIX.find(([prefix]) => stripeObjectId.startsWith(prefix))?.[1];
  if (byPrefix !== undefined) {
    const found = await byPrefix(db, stripeObjectId, account);
    if (found !== null) return found;
  }
  // An order reference is the user's own text and may look like anything, so it is the fallback.
  return byPrefix === findOrder ? null : findOrder(db, stripeObjectId, account);
}
