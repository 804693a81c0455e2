import type { BigintColumn, FlagColumn, NullableBigintColumn } from './columns.js';

/**
 * Kysely table interfaces of the ledger. Column conventions are described in `columns.ts`.
 *
 * Every business table is scoped by `account` (`''` for the platform account, `acct_…` for a
 * connected account). It records `last_event_created` and `last_event_id`, the newest event applied
 * to the row. Events are ordered by Stripe's `created`, then by a status rank, then by event id.
 */

/** The "event applied" markers of the transactional inbox; one row per applied event id. */
export interface AppliedEventsTable {
  event_id: string;
  event_type: string;
  action: string;
  account: string;
  /** Stripe's `created` of the event, in Unix seconds. */
  event_created: BigintColumn;
  /** Wall-clock time of the commit, ISO-8601. */
  applied_at: string;
}

/**
 * One payment the user sells something for: a Checkout Session and/or a PaymentIntent and its
 * successful charge. Found by any of those ids, which are filled in as events reveal them.
 */
export interface OrdersTable {
  /** Surrogate key (random UUID); never shown in snapshots. */
  id: string;
  account: string;
  /** The user's own reference: `client_reference_id`, or `metadata.order_id` / `metadata.platform_order_id`. */
  order_reference: string | null;
  checkout_session: string | null;
  payment_intent: string | null;
  charge: string | null;
  customer: string | null;
  currency: string | null;
  amount_total: NullableBigintColumn;
  amount_paid: BigintColumn;
  /** Derived from the refund rows and `charge_amount_refunded`: see `refundedAmount`. */
  amount_refunded: BigintColumn;
  /** `amount_refunded` from the newest Charge event. */
  charge_amount_refunded: BigintColumn;
  /** `created` of the event that set `charge_amount_refunded`. */
  charge_amount_refunded_event_created: NullableBigintColumn;
  application_fee_amount: NullableBigintColumn;
  /** The payment outcome from the newest payment event: see `PAYMENT_OUTCOMES`. */
  payment_outcome: string | null;
  /** Derived from `payment_outcome` and the amounts: see `ORDER_STATUSES`. */
  status: string;
  payment_outcome_event_created: NullableBigintColumn;
  payment_outcome_event_id: string | null;
  failure_code: string | null;
  decline_code: string | null;
  /** Whether the customer can retry the failed payment; null unless the outcome is a failure. */
  retryable: FlagColumn | null;
  /** 1 when a manual review puts the payment on hold, so no `order.paid` message is sent for it. */
  on_hold: FlagColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface RefundsTable {
  account: string;
  refund_id: string;
  charge: string | null;
  payment_intent: string | null;
  amount: BigintColumn;
  currency: string;
  status: string;
  reason: string | null;
  failure_reason: string | null;
  /** The Refund's own `created`, in Unix seconds. */
  refund_created: BigintColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface CustomersTable {
  account: string;
  customer_id: string;
  /** The user's own customer record may keep the e-mail address; logs never carry it. */
  email: string | null;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface SubscriptionsTable {
  account: string;
  subscription_id: string;
  customer: string;
  status: string;
  /** 1 while the status is `active` or `trialing`. */
  access: FlagColumn;
  price: string | null;
  current_period_start: NullableBigintColumn;
  current_period_end: NullableBigintColumn;
  default_payment_method: string | null;
  has_payment_method: FlagColumn;
  latest_invoice: string | null;
  trial_end: NullableBigintColumn;
  cancel_at_period_end: FlagColumn;
  canceled_at: NullableBigintColumn;
  ended_at: NullableBigintColumn;
  cancellation_reason: string | null;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface InvoicesTable {
  account: string;
  invoice_id: string;
  number: string | null;
  customer: string | null;
  subscription: string | null;
  status: string;
  currency: string;
  amount_due: BigintColumn;
  amount_paid: BigintColumn;
  attempt_count: number;
  next_payment_attempt: NullableBigintColumn;
  billing_reason: string | null;
  /** The Invoice's own `created`, in Unix seconds. */
  invoice_created: BigintColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface DisputesTable {
  account: string;
  dispute_id: string;
  charge: string | null;
  payment_intent: string | null;
  status: string;
  reason: string | null;
  amount: BigintColumn;
  currency: string;
  evidence_due_by: NullableBigintColumn;
  /** Sum of the negated negative balance transactions: money taken from the balance. */
  funds_withdrawn: BigintColumn;
  /** Sum of the positive balance transactions: money given back. */
  funds_reinstated: BigintColumn;
  dispute_fee: BigintColumn;
  /** funds_withdrawn − funds_reinstated + dispute_fee once the dispute is `lost`, else null. */
  net_loss: NullableBigintColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface EarlyFraudWarningsTable {
  account: string;
  warning_id: string;
  charge: string | null;
  payment_intent: string | null;
  fraud_type: string;
  actionable: FlagColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

export interface RadarReviewsTable {
  account: string;
  review_id: string;
  charge: string | null;
  payment_intent: string | null;
  open: FlagColumn;
  reason: string;
  opened_reason: string | null;
  closed_reason: string | null;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
}

/** A task for a person: one row per account, subject object and kind of review. */
export interface ManualReviewsTable {
  id: string;
  account: string;
  /** The Stripe object under review (charge, PaymentIntent, dispute, warning, Radar review…). */
  subject_id: string;
  /** The decision's `metadata.reviewKind`, for example `dispute` or `large_payment`. */
  kind: string;
  priority: string;
  reason: string;
  status: string;
  payment_intent: string | null;
  charge: string | null;
  /** The oldest event that asked for this review; its decision's reason is kept. */
  opened_event_id: string;
  opened_event_created: BigintColumn;
  livemode: FlagColumn;
  last_event_created: BigintColumn;
  last_event_id: string;
  /** Wall-clock time the row was inserted, ISO-8601. */
  created_at: string;
}

/** Messages to send after the commit (e-mails, calls to the user's systems). */
export interface OutboxTable {
  id: string;
  /** One business fact produces one message, however many events describe it. */
  dedupe_key: string;
  topic: string;
  account: string;
  /** JSON text. */
  payload: string;
  status: string;
  attempts: number;
  created_event_id: string;
  /** Wall-clock time, ISO-8601. */
  created_at: string;
  sent_at: string | null;
}

export interface LedgerDatabase {
  ledger_applied_events: AppliedEventsTable;
  ledger_orders: OrdersTable;
  ledger_refunds: RefundsTable;
  ledger_customers: CustomersTable;
  ledger_subscriptions: SubscriptionsTable;
  ledger_invoices: InvoicesTable;
  ledger_disputes: DisputesTable;
  ledger_early_fraud_warnings: EarlyFraudWarningsTable;
  ledger_radar_reviews: RadarReviewsTable;
  ledger_manual_reviews: ManualReviewsTable;
  ledger_outbox: OutboxTable;
}

/** Business tables, in the order snapshots and resets list them. */
export const LEDGER_BUSINESS_TABLES = [
  'ledger_orders',
  'ledger_refunds',
  'ledger_customers',
  'ledger_subscriptions',
  'ledger_invoices',
  'ledger_disputes',
  'ledger_early_fraud_warnings',
  'ledger_radar_reviews',
  'ledger_manual_reviews',
] as const satisfies readonly (keyof LedgerDatabase)[];
