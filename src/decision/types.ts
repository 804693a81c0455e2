/**
 * What the worker should do with an event. `decide` produces one Decision per event; the
 * execution engine applies its action to the ledger.
 */
export const ACTIONS = [
  /** Record a successful payment and fulfil the order (outbox message `order.paid`). */
  'mark_order_paid',
  /** Record an order whose payment is still pending (delayed methods such as SEPA Debit). */
  'mark_order_awaiting_payment',
  /** Record a failed payment attempt on an order or a subscription invoice. */
  'mark_payment_failed',
  /** Record that a Checkout Session expired or a PaymentIntent was canceled before payment. */
  'cancel_order',
  /** Record a subscription that grants access (`active`, `trialing`) or an invoice paid for it. */
  'activate_subscription',
  /** Record a subscription change that does not grant access (`incomplete`, `past_due`, `unpaid`, `paused`). */
  'update_subscription',
  /** Record a subscription that ended; access is revoked. */
  'cancel_subscription',
  /** Record an invoice that was finalized or changed without a payment outcome. */
  'record_invoice',
  /** Record a customer. */
  'record_customer',
  /** Record a refund; charge-level and refund-level events for one refund count once. */
  'handle_refund',
  /** Open a manual review for a person (disputes, fraud warnings, Radar reviews, large payments). */
  'request_manual_review',
  /** Record a dispute's new status or outcome (updated, funds withdrawn or reinstated, closed). */
  'update_dispute',
  /** Ask the customer to add a payment method before a trial ends (outbox message). */
  'remind_trial_ending',
  /** Ask an AI provider for advice only; no ledger effect. */
  'invoke_ai_enrichment',
  /** Acknowledge and record the event without a business effect. */
  'ignore_event',
] as const;

export type Action = (typeof ACTIONS)[number];

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export type AiTaskType = 'dispute_summary' | 'fraud_risk_assessment' | 'manual_review_triage' | 'failed_payment_outreach_draft';

export interface Decision {
  readonly action: Action;
  /** One sentence that explains the choice, shown in the admin API and logs. */
  readonly reason: string;
  readonly priority: Priority;
  /** True when the event should also get AI enrichment after its effect commits. */
  readonly requiresAi: boolean;
  /** Enrichment task to run when `requiresAi` is true. */
  readonly aiTask: AiTaskType | null;
  /** Provider override for the enrichment; null uses the configured provider. */
  readonly provider: string | null;
  /** False when retrying cannot change the outcome (for example an ignored event). */
  readonly retryable: boolean;
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
}

/** Configuration and state the decision engine may read; it performs no I/O. */
export interface DecisionContext {
  /** Mode of the Stripe account this deployment serves; events of the other mode are ignored. */
  readonly livemode: boolean;
  /** Payments above this amount, in the currency's smallest unit, go to manual review. */
  readonly manualReviewAmount: number;
}
