import { z } from 'zod';
import { decisionFor } from './decision-for.js';
import { eventVerb, formatAmount, withPayload, type Rule } from './rule.js';

const currency = z.string().nullable().optional();

const refundedChargeSchema = z.object({
  object: z.literal('charge'),
  amount: z.number().int().optional(),
  amount_refunded: z.number().int().optional(),
  currency,
});

const refundSchema = z.object({
  object: z.literal('refund'),
  amount: z.number().int().optional(),
  status: z.string().nullable().optional(),
  currency,
});

const disputeSchema = z.object({
  object: z.literal('dispute'),
  amount: z.number().int().optional(),
  reason: z.string().optional(),
  status: z.string().optional(),
  currency,
});

const earlyFraudWarningSchema = z.object({
  object: z.literal('radar.early_fraud_warning'),
  actionable: z.boolean(),
  fraud_type: z.string().optional(),
});

const reviewSchema = z.object({
  object: z.literal('review'),
  reason: z.string().optional(),
});

export const chargeRefunded: Rule = withPayload(refundedChargeSchema, (charge) => {
  const refunded = charge.amount_refunded === undefined ? 'unknown' : String(charge.amount_refunded);
  const total = charge.amount === undefined ? 'unknown' : formatAmount(charge.amount, charge.currency);
  return decisionFor('handle_refund', `Charge refunded (amount_refunded ${refunded} of amount ${total}).`);
});

export const refundChanged: Rule = withPayload(refundSchema, (refund, { eventType }) => {
  const amount = refund.amount === undefined ? 'unknown' : formatAmount(refund.amount, refund.currency);
  return decisionFor('handle_refund', `Refund ${eventVerb(eventType)} (status ${refund.status ?? 'unknown'}, amount ${amount}).`);
});

export const disputeCreated: Rule = withPayload(disputeSchema, (dispute) =>
  decisionFor('request_manual_review', `Dispute opened (${describeDispute(dispute)}).`, {
    // Stripe gives a fixed deadline to submit evidence, so a new dispute goes first in the queue.
    priority: 'urgent',
    requiresAi: true,
    aiTask: 'dispute_summary',
    metadata: { reviewKind: 'dispute' },
  }),
);

export const disputeChanged: Rule = withPayload(disputeSchema, (dispute, { eventType }) =>
  decisionFor('update_dispute', `Dispute ${eventVerb(eventType)} (${describeDispute(dispute)}).`),
);

export const earlyFraudWarning: Rule = withPayload(earlyFraudWarningSchema, (warning, { eventType }) =>
  decisionFor(
    'request_manual_review',
    `Early fraud warning ${eventVerb(eventType)} (fraud_type ${warning.fraud_type ?? 'unknown'}, ${warning.actionable ? 'actionable' : 'not actionable'}).`,
    {
      // An actionable warning has no dispute yet and the Charge is not fully refunded, so a refund
      // made now may avoid a dispute (Stripe API reference, `radar.early_fraud_warning.actionable`).
      priority: warning.actionable ? 'urgent' : 'high',
      requiresAi: true,
      aiTask: 'fraud_risk_assessment',
      metadata: { reviewKind: 'early_fraud_warning' },
    },
  ),
);

export const reviewOpened: Rule = withPayload(reviewSchema, (review) =>
  decisionFor('request_manual_review', `Radar opened a review (reason ${review.reason ?? 'unknown'}).`, {
    priority: 'high',
    requiresAi: true,
    aiTask: 'manual_review_triage',
    metadata: { reviewKind: 'radar_review' },
  }),
);

function describeDispute(dispute: z.output<typeof disputeSchema>): string {
  const amount = dispute.amount === undefined ? 'unknown' : formatAmount(dispute.amount, dispute.currency);
  return `reason ${dispute.reason ?? 'unknown'}, status ${dispute.status ?? 'unknown'}, amount ${amount}`;
}
