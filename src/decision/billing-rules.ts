import { z } from 'zod';
import { decisionFor } from './decision-for.js';
import { eventVerb, formatAmount, isAboveReviewAmount, withPayload, type Rule } from './rule.js';
import type { Action } from './types.js';

const currency = z.string().nullable().optional();

const invoiceSchema = z.object({
  object: z.literal('invoice'),
  status: z.string().nullable().optional(),
  amount_due: z.number().int().optional(),
  amount_paid: z.number().int().optional(),
  currency,
});

const failedInvoiceSchema = z.object({
  object: z.literal('invoice'),
  amount_due: z.number().int(),
  attempt_count: z.number().int().optional(),
  currency,
});

const customerSchema = z.object({ object: z.literal('customer') });

/** The subscription statuses of `Stripe.Subscription.Status` in stripe-node 23.2.0. */
const SUBSCRIPTION_STATUSES = [
  'active',
  'trialing',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'unpaid',
  'paused',
  'canceled',
] as const;

type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** The action for each subscription status, and its effect on access for the reason. */
const SUBSCRIPTION_OUTCOME_BY_STATUS: Readonly<Record<SubscriptionStatus, { action: Action; effect: string }>> = {
  active: { action: 'activate_subscription', effect: 'which grants access' },
  trialing: { action: 'activate_subscription', effect: 'which grants access' },
  incomplete: { action: 'update_subscription', effect: 'which does not grant access' },
  incomplete_expired: { action: 'update_subscription', effect: 'which does not grant access' },
  past_due: { action: 'update_subscription', effect: 'which does not grant access' },
  unpaid: { action: 'update_subscription', effect: 'which does not grant access' },
  paused: { action: 'update_subscription', effect: 'which does not grant access' },
  canceled: { action: 'cancel_subscription', effect: 'so access ends' },
};

const subscriptionSchema = z.object({
  object: z.literal('subscription'),
  status: z.enum(SUBSCRIPTION_STATUSES),
});

const subscriptionFactsSchema = z.object({
  object: z.literal('subscription'),
  status: z.string().optional(),
});

export const invoiceRecorded: Rule = withPayload(invoiceSchema, (invoice, { eventType }) =>
  decisionFor(
    'record_invoice',
    `Invoice ${eventVerb(eventType)} (status ${invoice.status ?? 'none'}, amount_due ${describeAmount(invoice.amount_due, invoice.currency)}).`,
  ),
);

// Subscription status is taken only from customer.subscription.* events, which carry the status
// itself. A paid invoice may arrive before or after them, so it only records the invoice.
export const invoicePaid: Rule = withPayload(invoiceSchema, (invoice) =>
  decisionFor(
    'record_invoice',
    `Invoice was paid (amount_paid ${describeAmount(invoice.amount_paid, invoice.currency)}); subscription status comes only from subscription events.`,
  ),
);

export const invoicePaymentFailed: Rule = withPayload(failedInvoiceSchema, (invoice, { context }) => {
  const facts = `amount_due ${formatAmount(invoice.amount_due, invoice.currency)}, attempt_count ${invoice.attempt_count ?? 'unknown'}`;
  if (!isAboveReviewAmount(invoice.amount_due, context)) {
    return decisionFor('mark_payment_failed', `Invoice payment failed (${facts}).`);
  }
  return decisionFor(
    'mark_payment_failed',
    `Invoice payment failed (${facts}), above the manual review amount ${context.manualReviewAmount}, so an outreach draft is requested.`,
    { requiresAi: true, aiTask: 'failed_payment_outreach_draft' },
  );
});

// The reason names no customer field: names, emails and addresses are personal data.
export const customerRecorded: Rule = withPayload(customerSchema, (_customer, { eventType }) =>
  decisionFor('record_customer', `Customer ${eventVerb(eventType)}.`),
);

export const subscriptionChanged: Rule = withPayload(subscriptionSchema, (subscription, { eventType }) => {
  const { action, effect } = SUBSCRIPTION_OUTCOME_BY_STATUS[subscription.status];
  return decisionFor(action, `Subscription ${eventVerb(eventType)} with status ${subscription.status}, ${effect}.`);
});

export const subscriptionDeleted: Rule = withPayload(subscriptionFactsSchema, (subscription) =>
  decisionFor('cancel_subscription', `Subscription deleted (status ${subscription.status ?? 'unknown'}), so access ends.`),
);

export const subscriptionTrialWillEnd: Rule = withPayload(subscriptionFactsSchema, (subscription) =>
  decisionFor('remind_trial_ending', `Subscription trial will end soon (status ${subscription.status ?? 'unknown'}).`),
);

function describeAmount(amount: number | undefined, currencyCode: string | null | undefined): string {
  return amount === undefined ? 'unknown' : formatAmount(amount, currencyCode);
}
