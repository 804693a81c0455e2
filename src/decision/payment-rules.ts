import { z } from 'zod';
import { decisionFor } from './decision-for.js';
import { formatAmount, isAboveReviewAmount, withPayload, type Rule } from './rule.js';
import type { Decision, DecisionContext } from './types.js';

// Schemas list only the fields a rule reads. A field that decides the action is required. A field
// that only adds a fact to the reason is optional, so its absence never sends an event to review.
const currency = z.string().nullable().optional();

const checkoutSessionSchema = z.object({
  object: z.literal('checkout.session'),
  payment_status: z.enum(['paid', 'unpaid', 'no_payment_required']),
  amount_total: z.number().int().nullable(),
  currency,
});

const checkoutSessionAmountSchema = z.object({
  object: z.literal('checkout.session'),
  amount_total: z.number().int().nullable(),
  currency,
});

const checkoutSessionFactsSchema = z.object({
  object: z.literal('checkout.session'),
  amount_total: z.number().int().nullable().optional(),
  currency,
});

const paymentIntentSchema = z.object({
  object: z.literal('payment_intent'),
  amount: z.number().int(),
  amount_received: z.number().int().optional(),
  currency,
});

const failedPaymentIntentSchema = z.object({
  object: z.literal('payment_intent'),
  status: z.string().optional(),
  last_payment_error: z
    .object({ code: z.string().nullable().optional(), decline_code: z.string().nullable().optional() })
    .nullable()
    .optional(),
});

const canceledPaymentIntentSchema = z.object({
  object: z.literal('payment_intent'),
  cancellation_reason: z.string().nullable().optional(),
});

const chargeSchema = z.object({
  object: z.literal('charge'),
  amount: z.number().int(),
  amount_captured: z.number().int().optional(),
  currency,
  outcome: z
    .object({ type: z.string().nullable().optional(), risk_level: z.string().nullable().optional() })
    .nullable()
    .optional(),
  // `review` is an id, or the Review object when the event was fetched with expansion.
  review: z.union([z.string(), z.object({ id: z.string() })]).nullable().optional(),
});

/** Radar risk levels that send a successful Charge to a person. */
const REVIEWED_RISK_LEVELS: ReadonlySet<string> = new Set(['elevated', 'highest']);

/**
 * Returns `mark_order_paid`, or a high-priority manual review when the amount is above the manual
 * review amount. `summary` and `facts` form the reason, as in "Charge succeeded (amount 3000 usd)".
 */
function paidOrLargePayment(summary: string, facts: string, amount: number | null, context: DecisionContext): Decision {
  if (!isAboveReviewAmount(amount, context)) return decisionFor('mark_order_paid', `${summary} (${facts}).`);

  return decisionFor(
    'request_manual_review',
    `${summary} (${facts}), above the manual review amount ${context.manualReviewAmount}.`,
    {
      priority: 'high',
      requiresAi: true,
      aiTask: 'manual_review_triage',
      metadata: { reviewKind: 'large_payment' },
    },
  );
}

export const checkoutSessionCompleted: Rule = withPayload(checkoutSessionSchema, (session, { context }) => {
  const facts = `payment_status ${session.payment_status}, amount_total ${describeNullableAmount(session.amount_total, session.currency)}`;
  if (session.payment_status === 'unpaid') {
    // A delayed payment method (SEPA Debit, bank transfer) settles later with an async_payment_* event.
    return decisionFor('mark_order_awaiting_payment', `Checkout Session completed and awaits a delayed payment (${facts}).`);
  }
  return paidOrLargePayment('Checkout Session completed', facts, session.amount_total, context);
});

export const checkoutSessionAsyncPaymentSucceeded: Rule = withPayload(checkoutSessionAmountSchema, (session, { context }) => {
  const facts = `amount_total ${describeNullableAmount(session.amount_total, session.currency)}`;
  return paidOrLargePayment('Checkout Session delayed payment succeeded', facts, session.amount_total, context);
});

export const checkoutSessionAsyncPaymentFailed: Rule = withPayload(checkoutSessionFactsSchema, (session) =>
  decisionFor(
    'mark_payment_failed',
    `Checkout Session delayed payment failed (amount_total ${describeNullableAmount(session.amount_total, session.currency)}).`,
  ),
);

export const checkoutSessionExpired: Rule = withPayload(checkoutSessionFactsSchema, (session) =>
  decisionFor(
    'cancel_order',
    `Checkout Session expired without payment (amount_total ${describeNullableAmount(session.amount_total, session.currency)}).`,
  ),
);

export const paymentIntentSucceeded: Rule = withPayload(paymentIntentSchema, (intent, { context }) => {
  const received = intent.amount_received ?? intent.amount;
  const field = intent.amount_received === undefined ? 'amount' : 'amount_received';
  return paidOrLargePayment('PaymentIntent succeeded', `${field} ${formatAmount(received, intent.currency)}`, received, context);
});

export const paymentIntentPaymentFailed: Rule = withPayload(failedPaymentIntentSchema, (intent) => {
  const failureCode = intent.last_payment_error?.code ?? null;
  const declineCode = intent.last_payment_error?.decline_code ?? null;
  return decisionFor(
    'mark_payment_failed',
    `PaymentIntent payment failed (status ${intent.status ?? 'unknown'}, code ${failureCode ?? 'none'}, decline_code ${declineCode ?? 'none'}).`,
    { metadata: { failure_code: failureCode, decline_code: declineCode } },
  );
});

export const paymentIntentCanceled: Rule = withPayload(canceledPaymentIntentSchema, (intent) =>
  decisionFor('cancel_order', `PaymentIntent canceled (cancellation_reason ${intent.cancellation_reason ?? 'none'}).`),
);

export const chargeSucceeded: Rule = withPayload(chargeSchema, (charge, { context }) => {
  const riskSignals = radarRiskSignals(charge);
  if (riskSignals.length > 0) {
    return decisionFor(
      'request_manual_review',
      `Radar flagged a successful Charge of ${formatAmount(charge.amount, charge.currency)} (${riskSignals.join(', ')}).`,
      {
        priority: 'high',
        requiresAi: true,
        aiTask: 'fraud_risk_assessment',
        metadata: { reviewKind: 'radar_risk' },
      },
    );
  }

  // A Charge with manual capture succeeds when it is authorized, with amount_captured 0, so
  // the authorized amount is the one to compare with the review threshold.
  const capturedAmount = charge.amount_captured ?? 0;
  const amount = capturedAmount > 0 ? capturedAmount : charge.amount;
  const field = capturedAmount > 0 ? 'amount_captured' : 'amount';
  return paidOrLargePayment('Charge succeeded', `${field} ${formatAmount(amount, charge.currency)}`, amount, context);
});

/** Lists the Radar signals on a Charge that call for a manual review, as facts for the reason. */
function radarRiskSignals(charge: z.output<typeof chargeSchema>): string[] {
  const signals: string[] = [];
  const outcomeType = charge.outcome?.type;
  const riskLevel = charge.outcome?.risk_level;
  if (outcomeType === 'manual_review') signals.push('outcome type manual_review');
  if (riskLevel !== null && riskLevel !== undefined && REVIEWED_RISK_LEVELS.has(riskLevel)) signals.push(`risk_level ${riskLevel}`);
  if (charge.review !== null && charge.review !== undefined) signals.push('review attached');
  return signals;
}

function describeNullableAmount(amount: number | null | undefined, currencyCode: string | null | undefined): string {
  return amount === null || amount === undefined ? 'none' : formatAmount(amount, currencyCode);
}
