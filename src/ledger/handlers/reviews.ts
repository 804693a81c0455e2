import { toFlag, toInteger } from '../columns.js';
import { openManualReview, type ReviewSubject } from '../state/manual-reviews.js';
import { orderRootId } from '../state/order-state.js';
import {
  earlyFraudWarningSchema,
  parseStripeObject,
  radarReviewSchema,
  stripeObjectId,
  stripeObjectType,
  type EarlyFraudWarning,
  type RadarReview,
} from '../stripe-objects.js';
import { isNewer } from '../versions.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';
import { parseDispute, upsertDispute } from './disputes.js';
import { applyOrderFacts, paidOrderFacts } from './orders.js';

/**
 * request_manual_review: records the object that needs a person (a risky or large payment, a
 * dispute, an early fraud warning, a Radar review) and opens one manual review for it.
 */

/** The review kind when the decision's metadata does not name one. */
const DEFAULT_KINDS: Readonly<Record<string, string>> = {
  charge: 'radar_risk',
  'checkout.session': 'large_payment',
  payment_intent: 'large_payment',
  dispute: 'dispute',
  'radar.early_fraud_warning': 'early_fraud_warning',
  review: 'radar_review',
};

function reviewKindOf(context: HandlerContext, objectType: string | null): string {
  const kind = context.decision.metadata['reviewKind'];
  if (typeof kind === 'string' && kind !== '') return kind;
  return (objectType === null ? undefined : DEFAULT_KINDS[objectType]) ?? 'unexpected_payload';
}

/** Warnings can turn non-actionable (after a refund), never back, so that ranks later. */
async function upsertEarlyFraudWarning(context: HandlerContext, warning: EarlyFraudWarning): Promise<void> {
  const { trx, account, event } = context;
  const existing = await trx
    .selectFrom('ledger_early_fraud_warnings')
    .selectAll()
    .where('account', '=', account)
    .where('warning_id', '=', warning.id)
    .executeTakeFirst();
  const values = {
    account,
    warning_id: warning.id,
    charge: warning.charge ?? existing?.charge ?? null,
    payment_intent: warning.payment_intent ?? existing?.payment_intent ?? null,
    fraud_type: warning.fraud_type,
    actionable: toFlag(warning.actionable),
    livemode: toFlag(event.livemode),
    last_event_created: event.created,
    last_event_id: event.id,
  };
  context.effects.push(`early_fraud_warning:${warning.id}`);
  if (existing === undefined) {
    await trx.insertInto('ledger_early_fraud_warnings').values(values).execute();
    return;
  }
  const current = { created: toInteger(existing.last_event_created), rank: existing.actionable === 1 ? 0 : 1, eventId: existing.last_event_id };
  if (!isNewer(versionOf(context, warning.actionable ? 0 : 1), current)) return;
  await trx.updateTable('ledger_early_fraud_warnings').set(values).where('account', '=', account).where('warning_id', '=', warning.id).execute();
}

/** Radar reviews open once and close once, so a closed review ranks later. */
async function upsertRadarReview(context: HandlerContext, review: RadarReview): Promise<void> {
  const { trx, account, event } = context;
  const existing = await trx
    .selectFrom('ledger_radar_reviews')
    .selectAll()
    .where('account', '=', account)
    .where('review_id', '=', review.id)
    .executeTakeFirst();
  const values = {
    account,
    review_id: review.id,
    charge: review.charge ?? existing?.charge ?? null,
    payment_intent: review.payment_intent ?? existing?.payment_intent ?? null,
    open: toFlag(review.open),
    reason: review.reason,
    opened_reason: review.opened_reason ?? existing?.opened_reason ?? null,
    closed_reason: review.closed_reason,
    livemode: toFlag(event.livemode),
    last_event_created: event.created,
    last_event_id: event.id,
  };
  context.effects.push(`radar_review:${review.id}`);
  if (existing === undefined) {
    await trx.insertInto('ledger_radar_reviews').values(values).execute();
    return;
  }
  const current = { created: toInteger(existing.last_event_created), rank: existing.open === 1 ? 0 : 1, eventId: existing.last_event_id };
  if (!isNewer(versionOf(context, review.open ? 0 : 1), current)) return;
  await trx.updateTable('ledger_radar_reviews').set(values).where('account', '=', account).where('review_id', '=', review.id).execute();
}

/** Records the reviewed object's row and returns the subject of the review. */
async function recordReviewedObject(context: HandlerContext, objectType: string | null, kind: string): Promise<ReviewSubject> {
  switch (objectType) {
    case 'checkout.session':
    case 'payment_intent':
    case 'charge': {
      // The payment succeeded, so it is recorded as paid, but on hold: no order.paid message is sent for it.
      // NOTE: no event or API releases the hold yet, so fulfilling a reviewed payment is up to the reviewer.
      const { after } = await applyOrderFacts(context, paidOrderFacts(context, true));
      const subjectId = kind === 'radar_risk' && after.charge !== null ? after.charge : orderRootId(after);
      return { id: subjectId, kind, paymentIntent: after.paymentIntent, charge: after.charge };
    }
    case 'dispute': {
      const dispute = parseDispute(context);
      await upsertDispute(context, dispute);
      return { id: dispute.id, kind, paymentIntent: dispute.payment_intent, charge: dispute.charge };
    }
    case 'radar.early_fraud_warning': {
      const warning = parseStripeObject(context.event, earlyFraudWarningSchema);
      await upsertEarlyFraudWarning(context, warning);
      return { id: warning.id, kind, paymentIntent: warning.payment_intent, charge: warning.charge };
    }
    case 'review': {
      const review = parseStripeObject(context.event, radarReviewSchema);
      await upsertRadarReview(context, review);
      return { id: review.id, kind, paymentIntent: review.payment_intent, charge: review.charge };
    }
    case null:
    default:
      throw unsupportedObject(context, objectType);
  }
}

function stringField(context: HandlerContext, field: string): string | null {
  const value = context.event.data.object[field];
  return typeof value === 'string' && value !== '' ? value : null;
}

async function requestManualReview(context: HandlerContext): Promise<void> {
  const objectType = stripeObjectType(context.event);
  const kind = reviewKindOf(context, objectType);
  if (kind === 'unexpected_payload') {
    // The object did not match what its event type promises, so only the review is recorded.
    await openManualReview(context, {
      id: stripeObjectId(context.event) ?? context.event.id,
      kind,
      paymentIntent: stringField(context, 'payment_intent'),
      charge: stringField(context, 'charge'),
    });
    return;
  }
  await openManualReview(context, await recordReviewedObject(context, objectType, kind));
}

export const reviewHandlers = {
  request_manual_review: requestManualReview,
} satisfies HandlerTable;
