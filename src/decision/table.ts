import {
  customerRecorded,
  invoicePaid,
  invoicePaymentFailed,
  invoiceRecorded,
  subscriptionChanged,
  subscriptionDeleted,
  subscriptionTrialWillEnd,
} from './billing-rules.js';
import {
  chargeSucceeded,
  checkoutSessionAsyncPaymentFailed,
  checkoutSessionAsyncPaymentSucceeded,
  checkoutSessionCompleted,
  checkoutSessionExpired,
  paymentIntentCanceled,
  paymentIntentPaymentFailed,
  paymentIntentSucceeded,
} from './payment-rules.js';
import { chargeRefunded, disputeChanged, disputeCreated, earlyFraudWarning, refundChanged, reviewOpened } from './risk-rules.js';
import type { Rule } from './rule.js';
import type { Action } from './types.js';

/** One row of the decision table: the event types it covers, the actions it can return, and its rule. */
export interface DecisionRow {
  readonly eventTypes: readonly string[];
  /** Every action the rule returns for a well-formed object. A test checks the list against the fixtures. */
  readonly actions: readonly Action[];
  readonly rule: Rule;
}

/**
 * The event types the pipeline acts on. Any other type is ignored. A rule whose object lacks a
 * field it needs also returns `request_manual_review` (review kind `unexpected_payload`), which
 * the `actions` lists leave out.
 */
export const DECISION_TABLE: readonly DecisionRow[] = [
  // Checkout: paid or free sessions are paid orders, unpaid ones wait for a delayed payment method.
  // Paid amounts above the manual review amount go to a person (review kind large_payment).
  {
    eventTypes: ['checkout.session.completed'],
    actions: ['mark_order_paid', 'mark_order_awaiting_payment', 'request_manual_review'],
    rule: checkoutSessionCompleted,
  },
  {
    eventTypes: ['checkout.session.async_payment_succeeded'],
    actions: ['mark_order_paid', 'request_manual_review'],
    rule: checkoutSessionAsyncPaymentSucceeded,
  },
  { eventTypes: ['checkout.session.async_payment_failed'], actions: ['mark_payment_failed'], rule: checkoutSessionAsyncPaymentFailed },
  { eventTypes: ['checkout.session.expired'], actions: ['cancel_order'], rule: checkoutSessionExpired },

  // PaymentIntents and Charges get the same large-payment review. A Charge that Radar flagged goes
  // to a person (review kind radar_risk).
  { eventTypes: ['payment_intent.succeeded'], actions: ['mark_order_paid', 'request_manual_review'], rule: paymentIntentSucceeded },
  { eventTypes: ['payment_intent.payment_failed'], actions: ['mark_payment_failed'], rule: paymentIntentPaymentFailed },
  { eventTypes: ['payment_intent.canceled'], actions: ['cancel_order'], rule: paymentIntentCanceled },
  { eventTypes: ['charge.succeeded'], actions: ['mark_order_paid', 'request_manual_review'], rule: chargeSucceeded },

  // Invoices are only recorded, because subscription status comes only from subscription events.
  { eventTypes: ['invoice.finalized', 'invoice.updated'], actions: ['record_invoice'], rule: invoiceRecorded },
  { eventTypes: ['invoice.paid', 'invoice.payment_succeeded'], actions: ['record_invoice'], rule: invoicePaid },
  { eventTypes: ['invoice.payment_failed'], actions: ['mark_payment_failed'], rule: invoicePaymentFailed },

  { eventTypes: ['customer.created', 'customer.updated'], actions: ['record_customer'], rule: customerRecorded },

  // The subscription status decides the action. Only active and trialing grant access.
  {
    eventTypes: [
      'customer.subscription.created',
      'customer.subscription.updated',
      'customer.subscription.resumed',
      'customer.subscription.paused',
    ],
    actions: ['activate_subscription', 'update_subscription', 'cancel_subscription'],
    rule: subscriptionChanged,
  },
  { eventTypes: ['customer.subscription.deleted'], actions: ['cancel_subscription'], rule: subscriptionDeleted },
  { eventTypes: ['customer.subscription.trial_will_end'], actions: ['remind_trial_ending'], rule: subscriptionTrialWillEnd },

  // Refunds arrive as Charge events and as Refund events, and `handle_refund` counts each refund once.
  { eventTypes: ['charge.refunded'], actions: ['handle_refund'], rule: chargeRefunded },
  {
    eventTypes: ['charge.refund.updated', 'refund.created', 'refund.updated', 'refund.failed'],
    actions: ['handle_refund'],
    rule: refundChanged,
  },

  // Disputes and fraud signals go to a person, with AI advice.
  { eventTypes: ['charge.dispute.created'], actions: ['request_manual_review'], rule: disputeCreated },
  {
    eventTypes: [
      'charge.dispute.updated',
      'charge.dispute.closed',
      'charge.dispute.funds_withdrawn',
      'charge.dispute.funds_reinstated',
    ],
    actions: ['update_dispute'],
    rule: disputeChanged,
  },
  {
    eventTypes: ['radar.early_fraud_warning.created', 'radar.early_fraud_warning.updated'],
    actions: ['request_manual_review'],
    rule: earlyFraudWarning,
  },
  { eventTypes: ['review.opened'], actions: ['request_manual_review'], rule: reviewOpened },
];

// A Map rather than an object literal, so an event type such as "constructor" finds no rule.
const RULE_BY_EVENT_TYPE: ReadonlyMap<string, Rule> = new Map(
  DECISION_TABLE.flatMap((row) => row.eventTypes.map((eventType) => [eventType, row.rule] as const)),
);

/** Every event type that has a rule, in table order, for example to list a webhook endpoint's enabled events. */
export const HANDLED_EVENT_TYPES: readonly string[] = DECISION_TABLE.flatMap((row) => row.eventTypes);

/** Returns the rule for an event type, or undefined when the pipeline ignores that type. */
export function ruleFor(eventType: string): Rule | undefined {
  return RULE_BY_EVENT_TYPE.get(eventType);
}
