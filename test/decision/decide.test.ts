import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide, decisionFor, DECISION_DEFAULTS, DECISION_TABLE, HANDLED_EVENT_TYPES } from '../../src/decision/decide.js';
import { ACTIONS, type Decision, type DecisionContext } from '../../src/decision/types.js';
import { parseStripeEvent, type SnapshotEvent, type StripeEvent } from '../../src/domain/stripe-event.js';

const FIXTURE_DIR = new URL('../../fixtures/stripe-events/', import.meta.url);
const EVENT_FILES = readdirSync(FIXTURE_DIR)
  .filter((file) => file.endsWith('.json') && file !== 'journeys.json')
  .sort();

/** The fixtures are test-mode events, and 100000 is the default MANUAL_REVIEW_AMOUNT. */
const TEST_MODE: DecisionContext = { livemode: false, manualReviewAmount: 100_000 };
const LARGE_AMOUNT = 250_000;

function loadEvent(file: string): StripeEvent {
  const parsed = parseStripeEvent(JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8')));
  if (!parsed.ok) throw new Error(`fixture ${file} is not a Stripe event: ${parsed.problem}`);
  return parsed.event;
}

function loadSnapshot(file: string): SnapshotEvent {
  const event = loadEvent(file);
  if (event.object !== 'event') throw new Error(`fixture ${file} is a thin event, expected a snapshot`);
  return event;
}

/** Returns a copy of a fixture event with fields of `data.object` replaced, and optionally another type. */
function modified(file: string, objectFields: Record<string, unknown>, type?: string): SnapshotEvent {
  const event = loadSnapshot(file);
  return {
    ...event,
    type: type ?? event.type,
    data: { ...event.data, object: { ...event.data.object, ...objectFields } },
  };
}

/** Returns a copy of a fixture event with the named fields removed from `data.object`. */
function without(file: string, ...fields: string[]): SnapshotEvent {
  const event = loadSnapshot(file);
  const object = { ...event.data.object };
  for (const field of fields) delete object[field];
  return { ...event, data: { ...event.data, object } };
}

function retyped(file: string, type: string): SnapshotEvent {
  return modified(file, {}, type);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function expectReview(decision: Decision, reviewKind: string, priority: Decision['priority'], aiTask: Decision['aiTask']): void {
  expect(decision.action).toBe('request_manual_review');
  expect(decision.metadata.reviewKind).toBe(reviewKind);
  expect(decision.priority).toBe(priority);
  expect(decision.requiresAi).toBe(aiTask !== null);
  expect(decision.aiTask).toBe(aiTask);
}

describe('decide', () => {
  describe('before the table', () => {
    it('ignores a thin event', () => {
      const decision = decide(loadEvent('v2.core.event.v1.billing.meter.error_report_triggered.notification.json'), TEST_MODE);

      expect(decision.action).toBe('ignore_event');
      expect(decision.reason).toMatch(/thin event/i);
      expect(decision.reason).toMatch(/recorded only/);
      expect(decision.retryable).toBe(false);
    });

    it('ignores a thin event before comparing modes', () => {
      const decision = decide(loadEvent('v2.core.event.v1.billing.meter.error_report_triggered.notification.json'), {
        ...TEST_MODE,
        livemode: true,
      });

      expect(decision.reason).toMatch(/thin event/i);
      expect(decision.metadata).toEqual({});
    });

    it('ignores a test event in live mode', () => {
      const decision = decide(loadEvent('checkout.session.completed.card_paid.json'), { ...TEST_MODE, livemode: true });

      expect(decision.action).toBe('ignore_event');
      expect(decision.reason).toBe('Test-mode event received by a live-mode deployment.');
      expect(decision.retryable).toBe(false);
      expect(decision.metadata).toEqual({ livemode: false });
    });

    it('ignores a live event in test mode', () => {
      const event: SnapshotEvent = { ...loadSnapshot('checkout.session.completed.card_paid.json'), livemode: true };

      const decision = decide(event, TEST_MODE);

      expect(decision.action).toBe('ignore_event');
      expect(decision.reason).toBe('Live-mode event received by a test-mode deployment.');
      expect(decision.metadata).toEqual({ livemode: true });
    });

    it('compares modes before reading the object', () => {
      const event = without('checkout.session.completed.card_paid.json', 'payment_status');

      expect(decide(event, { ...TEST_MODE, livemode: true }).action).toBe('ignore_event');
    });

    it.each(['product.created', 'constructor', 'toString'])('ignores unknown type %s', (type) => {
      const decision = decide(retyped('product.created.json', type), TEST_MODE);

      expect(decision.action).toBe('ignore_event');
      expect(decision.reason).toBe(`No rule for event type ${type}.`);
      expect(decision.retryable).toBe(false);
    });
  });

  describe('checkout sessions', () => {
    it('marks a paid session paid', () => {
      const decision = decide(loadEvent('checkout.session.completed.card_paid.json'), TEST_MODE);

      expect(decision).toEqual(
        decisionFor('mark_order_paid', 'Checkout Session completed (payment_status paid, amount_total 3000 usd).'),
      );
    });

    it('marks a free session paid', () => {
      const event = modified('checkout.session.completed.card_paid.json', { payment_status: 'no_payment_required', amount_total: 0 });

      expect(decide(event, TEST_MODE).action).toBe('mark_order_paid');
    });

    it('marks a session without amount_total paid', () => {
      const event = modified('checkout.session.completed.card_paid.json', { payment_status: 'no_payment_required', amount_total: null });

      const decision = decide(event, TEST_MODE);

      expect(decision.action).toBe('mark_order_paid');
      expect(decision.reason).toContain('amount_total none');
    });

    it('reviews a large paid session', () => {
      const event = modified('checkout.session.completed.card_paid.json', { amount_total: LARGE_AMOUNT });

      const decision = decide(event, TEST_MODE);

      expectReview(decision, 'large_payment', 'high', 'manual_review_triage');
      expect(decision.reason).toBe(
        'Checkout Session completed (payment_status paid, amount_total 250000 usd), above the manual review amount 100000.',
      );
    });

    it('marks a session at the threshold paid', () => {
      const event = modified('checkout.session.completed.card_paid.json', { amount_total: TEST_MODE.manualReviewAmount });

      expect(decide(event, TEST_MODE).action).toBe('mark_order_paid');
    });

    it.each(['checkout.session.completed.sepa_pending.json', 'checkout.session.completed.sepa_pending_then_fails.json'])(
      'awaits a delayed payment in %s',
      (file) => {
        const decision = decide(loadEvent(file), TEST_MODE);

        expect(decision.action).toBe('mark_order_awaiting_payment');
        expect(decision.reason).toContain('payment_status unpaid, amount_total 3000 eur');
      },
    );

    it('awaits a large unpaid session without review', () => {
      const event = modified('checkout.session.completed.sepa_pending.json', { amount_total: LARGE_AMOUNT });

      expect(decide(event, TEST_MODE).action).toBe('mark_order_awaiting_payment');
    });

    it('marks a delayed payment paid', () => {
      const decision = decide(loadEvent('checkout.session.async_payment_succeeded.json'), TEST_MODE);

      expect(decision.action).toBe('mark_order_paid');
      expect(decision.reason).toContain('amount_total 3000 eur');
    });

    it('reviews a large delayed payment', () => {
      const event = modified('checkout.session.async_payment_succeeded.json', { amount_total: LARGE_AMOUNT });

      expectReview(decide(event, TEST_MODE), 'large_payment', 'high', 'manual_review_triage');
    });

    it('fails a delayed payment', () => {
      const decision = decide(loadEvent('checkout.session.async_payment_failed.json'), TEST_MODE);

      expect(decision.action).toBe('mark_payment_failed');
      expect(decision.reason).toBe('Checkout Session delayed payment failed (amount_total 3000 eur).');
    });

    it('cancels an expired session', () => {
      const decision = decide(loadEvent('checkout.session.expired.json'), TEST_MODE);

      expect(decision.action).toBe('cancel_order');
      expect(decision.retryable).toBe(true);
    });
  });

  describe('payment intents', () => {
    it.each(['payment_intent.succeeded.json', 'payment_intent.succeeded.connect_account.json'])('marks %s paid', (file) => {
      const decision = decide(loadEvent(file), TEST_MODE);

      expect(decision.action).toBe('mark_order_paid');
      expect(decision.reason).toMatch(/^PaymentIntent succeeded \(amount_received \d+ usd\)\.$/);
    });

    it('reviews a large amount_received', () => {
      const event = modified('payment_intent.succeeded.json', { amount: LARGE_AMOUNT, amount_received: LARGE_AMOUNT });

      expectReview(decide(event, TEST_MODE), 'large_payment', 'high', 'manual_review_triage');
    });

    it('falls back to amount', () => {
      const event = modified(
        'payment_intent.succeeded.json',
        { amount: LARGE_AMOUNT, amount_received: undefined },
      );

      const decision = decide(event, TEST_MODE);

      expectReview(decision, 'large_payment', 'high', 'manual_review_triage');
      expect(decision.reason).toContain('amount 250000 usd');
    });

    it('fails a payment with its codes', () => {
      const decision = decide(loadEvent('payment_intent.payment_failed.json'), TEST_MODE);

      expect(decision.action).toBe('mark_payment_failed');
      expect(decision.metadata).toEqual({ failure_code: 'card_declined', decline_code: 'generic_decline' });
      expect(decision.reason).toBe(
        'PaymentIntent payment failed (status requires_payment_method, code card_declined, decline_code generic_decline).',
      );
    });

    it('fails a payment without last_payment_error', () => {
      const decision = decide(modified('payment_intent.payment_failed.json', { last_payment_error: null }), TEST_MODE);

      expect(decision.action).toBe('mark_payment_failed');
      expect(decision.metadata).toEqual({ failure_code: null, decline_code: null });
    });

    it('cancels a canceled intent', () => {
      const decision = decide(loadEvent('payment_intent.canceled.json'), TEST_MODE);

      expect(decision.action).toBe('cancel_order');
      expect(decision.reason).toBe('PaymentIntent canceled (cancellation_reason requested_by_customer).');
    });
  });

  describe('charges', () => {
    it('marks a normal charge paid', () => {
      const decision = decide(loadEvent('charge.succeeded.json'), TEST_MODE);

      expect(decision).toEqual(decisionFor('mark_order_paid', 'Charge succeeded (amount_captured 3000 usd).'));
    });

    it('reviews the elevated-risk fixture', () => {
      const decision = decide(loadEvent('charge.succeeded.elevated_risk.json'), TEST_MODE);

      expectReview(decision, 'radar_risk', 'high', 'fraud_risk_assessment');
      expect(decision.reason).toBe(
        'Radar flagged a successful Charge of 5000 usd (outcome type manual_review, risk_level elevated, review attached).',
      );
    });

    it.each([
      ['outcome type manual_review', { outcome: { type: 'manual_review', risk_level: 'normal' } }],
      ['risk_level elevated', { outcome: { type: 'authorized', risk_level: 'elevated' } }],
      ['risk_level highest', { outcome: { type: 'authorized', risk_level: 'highest' } }],
      ['review attached', { review: 'prv_1QfakeEx4mPLeAccReview1' }],
      ['review attached', { review: { id: 'prv_1QfakeEx4mPLeAccReview1', object: 'review' } }],
    ])('reviews a charge with %s', (signal, fields) => {
      const decision = decide(modified('charge.succeeded.json', fields), TEST_MODE);

      expectReview(decision, 'radar_risk', 'high', 'fraud_risk_assessment');
      expect(decision.reason).toContain(`(${signal})`);
    });

    it('marks a charge without outcome paid', () => {
      expect(decide(modified('charge.succeeded.json', { outcome: null }), TEST_MODE).action).toBe('mark_order_paid');
    });

    it('reviews a large captured charge', () => {
      const event = modified('charge.succeeded.json', { amount: LARGE_AMOUNT, amount_captured: LARGE_AMOUNT });

      expectReview(decide(event, TEST_MODE), 'large_payment', 'high', 'manual_review_triage');
    });

    it('reviews a large uncaptured authorization', () => {
      const event = modified('charge.succeeded.json', { amount: LARGE_AMOUNT, amount_captured: 0, captured: false });

      const decision = decide(event, TEST_MODE);

      expectReview(decision, 'large_payment', 'high', 'manual_review_triage');
      expect(decision.reason).toContain('amount 250000 usd');
    });

    it('checks Radar before the amount', () => {
      const event = modified('charge.succeeded.elevated_risk.json', { amount: LARGE_AMOUNT, amount_captured: LARGE_AMOUNT });

      expect(decide(event, TEST_MODE).metadata.reviewKind).toBe('radar_risk');
    });
  });

  describe('invoices and customers', () => {
    it.each([
      ['invoice.finalized.json', 'invoice.finalized'],
      ['invoice.finalized.renewal.json', 'invoice.finalized'],
      ['invoice.finalized.json', 'invoice.updated'],
    ])('records %s as %s', (file, type) => {
      const decision = decide(retyped(file, type), TEST_MODE);

      expect(decision.action).toBe('record_invoice');
      expect(decision.reason).toBe(`Invoice ${type.split('.')[1]} (status open, amount_due 1500 usd).`);
    });

    it.each(['invoice.paid', 'invoice.payment_succeeded'])('records a paid invoice for %s', (type) => {
      const decision = decide(retyped('invoice.paid.json', type), TEST_MODE);

      expect(decision.action).toBe('record_invoice');
      expect(decision.reason).toBe(
        'Invoice was paid (amount_paid 1500 usd); subscription status comes only from subscription events.',
      );
    });

    it('fails an invoice payment without AI', () => {
      const decision = decide(loadEvent('invoice.payment_failed.json'), TEST_MODE);

      expect(decision.action).toBe('mark_payment_failed');
      expect(decision.requiresAi).toBe(false);
      expect(decision.aiTask).toBeNull();
      expect(decision.reason).toBe('Invoice payment failed (amount_due 1500 usd, attempt_count 1).');
    });

    it('drafts outreach for a large failed invoice', () => {
      const decision = decide(modified('invoice.payment_failed.json', { amount_due: LARGE_AMOUNT }), TEST_MODE);

      expect(decision.action).toBe('mark_payment_failed');
      expect(decision.requiresAi).toBe(true);
      expect(decision.aiTask).toBe('failed_payment_outreach_draft');
      expect(decision.priority).toBe('normal');
    });

    it.each(['customer.created', 'customer.updated'])('records a customer for %s', (type) => {
      const decision = decide(retyped('customer.created.json', type), TEST_MODE);

      expect(decision.action).toBe('record_customer');
      expect(decision.reason).toBe(`Customer ${type.split('.')[1]}.`);
    });
  });

  describe('subscriptions', () => {
    it.each([
      ['customer.subscription.created.json', 'update_subscription'],
      ['customer.subscription.updated.activated.json', 'activate_subscription'],
      ['customer.subscription.updated.past_due.json', 'update_subscription'],
    ])('decides %s', (file, action) => {
      expect(decide(loadEvent(file), TEST_MODE).action).toBe(action);
    });

    it.each([
      ['active', 'activate_subscription', 'which grants access'],
      ['trialing', 'activate_subscription', 'which grants access'],
      ['incomplete', 'update_subscription', 'which does not grant access'],
      ['incomplete_expired', 'update_subscription', 'which does not grant access'],
      ['past_due', 'update_subscription', 'which does not grant access'],
      ['unpaid', 'update_subscription', 'which does not grant access'],
      ['paused', 'update_subscription', 'which does not grant access'],
      ['canceled', 'cancel_subscription', 'so access ends'],
    ])('maps status %s to %s', (status, action, effect) => {
      const decision = decide(modified('customer.subscription.updated.activated.json', { status }), TEST_MODE);

      expect(decision.action).toBe(action);
      expect(decision.reason).toBe(`Subscription updated with status ${status}, ${effect}.`);
    });

    it.each([
      ['customer.subscription.created', 'active', 'activate_subscription'],
      ['customer.subscription.resumed', 'active', 'activate_subscription'],
      ['customer.subscription.paused', 'paused', 'update_subscription'],
      ['customer.subscription.created', 'canceled', 'cancel_subscription'],
    ])('maps %s with status %s', (type, status, action) => {
      const event = modified('customer.subscription.updated.activated.json', { status }, type);

      expect(decide(event, TEST_MODE).action).toBe(action);
    });

    it('cancels a deleted subscription', () => {
      const decision = decide(loadEvent('customer.subscription.deleted.json'), TEST_MODE);

      expect(decision.action).toBe('cancel_subscription');
      expect(decision.reason).toBe('Subscription deleted (status canceled), so access ends.');
    });

    it('reminds before a trial ends', () => {
      expect(decide(loadEvent('customer.subscription.trial_will_end.json'), TEST_MODE).action).toBe('remind_trial_ending');
    });
  });

  describe('refunds, disputes and fraud signals', () => {
    it.each([
      ['charge.refunded.partial.json', 'charge.refunded', 'Charge refunded (amount_refunded 1000 of amount 3000 usd).'],
      ['charge.refunded.full.json', 'charge.refunded', 'Charge refunded (amount_refunded 3000 of amount 3000 usd).'],
      ['refund.created.partial.json', 'refund.created', 'Refund created (status succeeded, amount 1000 usd).'],
      ['refund.created.remainder.json', 'refund.created', 'Refund created (status succeeded, amount 2000 usd).'],
      ['refund.updated.json', 'refund.updated', 'Refund updated (status succeeded, amount 1000 usd).'],
      ['refund.updated.json', 'charge.refund.updated', 'Refund updated (status succeeded, amount 1000 usd).'],
      ['refund.created.partial.json', 'refund.failed', 'Refund failed (status succeeded, amount 1000 usd).'],
    ])('handles %s as %s', (file, type, reason) => {
      expect(decide(retyped(file, type), TEST_MODE)).toEqual(decisionFor('handle_refund', reason));
    });

    it('reviews a new dispute urgently', () => {
      const decision = decide(loadEvent('charge.dispute.created.json'), TEST_MODE);

      expectReview(decision, 'dispute', 'urgent', 'dispute_summary');
      expect(decision.reason).toBe('Dispute opened (reason fraudulent, status needs_response, amount 5000 usd).');
    });

    it.each([
      ['charge.dispute.closed', 'Dispute closed (reason fraudulent, status lost, amount 5000 usd).'],
      ['charge.dispute.updated', 'Dispute updated (reason fraudulent, status lost, amount 5000 usd).'],
      ['charge.dispute.funds_withdrawn', 'Dispute funds withdrawn (reason fraudulent, status lost, amount 5000 usd).'],
      ['charge.dispute.funds_reinstated', 'Dispute funds reinstated (reason fraudulent, status lost, amount 5000 usd).'],
    ])('updates a dispute for %s', (type, reason) => {
      expect(decide(retyped('charge.dispute.closed.json', type), TEST_MODE)).toEqual(decisionFor('update_dispute', reason));
    });

    it('reviews an actionable warning urgently', () => {
      const decision = decide(loadEvent('radar.early_fraud_warning.created.json'), TEST_MODE);

      expectReview(decision, 'early_fraud_warning', 'urgent', 'fraud_risk_assessment');
      expect(decision.reason).toBe('Early fraud warning created (fraud_type unauthorized_use_of_card, actionable).');
    });

    it('reviews a spent warning with high priority', () => {
      const event = modified('radar.early_fraud_warning.created.json', { actionable: false }, 'radar.early_fraud_warning.updated');

      const decision = decide(event, TEST_MODE);

      expectReview(decision, 'early_fraud_warning', 'high', 'fraud_risk_assessment');
      expect(decision.reason).toBe('Early fraud warning updated (fraud_type unauthorized_use_of_card, not actionable).');
    });

    it('reviews an opened Radar review', () => {
      const decision = decide(loadEvent('review.opened.json'), TEST_MODE);

      expectReview(decision, 'radar_review', 'high', 'manual_review_triage');
      expect(decision.reason).toBe('Radar opened a review (reason rule).');
    });
  });

  describe('when the object does not match its rule', () => {
    it.each([
      ['payment_status', 'checkout.session.completed.card_paid.json', { payment_status: undefined }, undefined],
      ['payment_status', 'checkout.session.completed.card_paid.json', { payment_status: 'pending' }, undefined],
      ['amount_total', 'checkout.session.async_payment_succeeded.json', { amount_total: '3000' }, undefined],
      ['amount', 'payment_intent.succeeded.json', { amount: undefined }, undefined],
      ['outcome.type', 'charge.succeeded.json', { outcome: { type: 7 } }, undefined],
      ['amount_due', 'invoice.payment_failed.json', { amount_due: undefined }, undefined],
      ['status', 'customer.subscription.updated.activated.json', { status: 'suspended' }, undefined],
      ['status', 'customer.subscription.updated.activated.json', { status: undefined }, 'customer.subscription.paused'],
      ['actionable', 'radar.early_fraud_warning.created.json', { actionable: 'yes' }, undefined],
      ['object', 'refund.created.partial.json', {}, 'charge.succeeded'],
      ['object', 'customer.created.json', {}, 'charge.dispute.created'],
    ])('reviews invalid %s in %s', (field, file, fields, type) => {
      const event = modified(file, fields, type);

      const decision = decide(event, TEST_MODE);

      expect(decision.action).toBe('request_manual_review');
      expect(decision.priority).toBe('normal');
      expect(decision.requiresAi).toBe(false);
      expect(decision.metadata).toEqual({ reviewKind: 'unexpected_payload', field });
      expect(decision.reason).toBe(
        `The ${event.type} event has a missing or invalid data.object.${field} field, so a person must check it.`,
      );
    });
  });

  describe('for every fixture', () => {
    it.each(EVENT_FILES)('returns a stable decision for %s', (file) => {
      const event = deepFreeze(loadEvent(file));
      const before = JSON.stringify(event);

      const first = decide(event, TEST_MODE);
      const second = decide(event, TEST_MODE);

      expect(second).toEqual(first);
      expect(JSON.stringify(event)).toBe(before);
      expect(ACTIONS).toContain(first.action);
    });

    it.each(EVENT_FILES)('writes a one-sentence reason for %s', (file) => {
      const { reason } = decide(loadEvent(file), TEST_MODE);

      expect(reason).toMatch(/^[A-Z].*\.$/);
      expect(reason).not.toMatch(/\.\s+[A-Z]/);
    });

    it.each(EVENT_FILES)('keeps personal data out of %s', (file) => {
      const decision = decide(loadEvent(file), TEST_MODE);
      const text = JSON.stringify(decision);

      expect(text).not.toContain('@');
      expect(text).not.toMatch(/Test (Buyer|Subscriber|Cardholder)/);
      expect(text).not.toContain('Example Street');
      expect(text).not.toContain('203.0.113.42');
    });

    it.each(EVENT_FILES)('returns a listed action for %s', (file) => {
      const event = loadEvent(file);
      const row = DECISION_TABLE.find((candidate) => candidate.eventTypes.includes(event.type));

      const decision = decide(event, TEST_MODE);

      if (row === undefined) {
        expect(decision.action).toBe('ignore_event');
      } else {
        expect(row.actions).toContain(decision.action);
        expect(decision.metadata.reviewKind).not.toBe('unexpected_payload');
      }
    });

    it('maps every large-payment row to a review', () => {
      const context: DecisionContext = { ...TEST_MODE, manualReviewAmount: 0 };

      const reviewed = EVENT_FILES.map((file) => decide(loadEvent(file), context))
        .filter((decision) => decision.metadata.reviewKind === 'large_payment')
        .map((decision) => decision.reason.split(' (')[0]);

      expect(new Set(reviewed)).toEqual(
        new Set([
          'Checkout Session completed',
          'Checkout Session delayed payment succeeded',
          'PaymentIntent succeeded',
          'Charge succeeded',
        ]),
      );
    });
  });

  describe('decision table', () => {
    it('lists each event type once', () => {
      expect(new Set(HANDLED_EVENT_TYPES).size).toBe(HANDLED_EVENT_TYPES.length);
    });

    it('lists only known actions', () => {
      for (const row of DECISION_TABLE) {
        for (const action of row.actions) expect(ACTIONS).toContain(action);
      }
    });

    it('never lists invoke_ai_enrichment', () => {
      expect(DECISION_TABLE.flatMap((row) => row.actions)).not.toContain('invoke_ai_enrichment');
      expect(ACTIONS).toContain('invoke_ai_enrichment');
    });
  });

  describe('decisionFor', () => {
    it('fills the defaults', () => {
      expect(decisionFor('record_customer', 'Customer created.')).toEqual({
        action: 'record_customer',
        reason: 'Customer created.',
        ...DECISION_DEFAULTS,
      });
    });

    it('keeps a default when an override is undefined', () => {
      const decision = decisionFor('record_customer', 'Customer created.', { priority: undefined, retryable: false });

      expect(decision.priority).toBe('normal');
      expect(decision.retryable).toBe(false);
    });

    it('copies and freezes metadata', () => {
      const metadata = { reviewKind: 'dispute' };

      const decision = decisionFor('request_manual_review', 'Dispute opened.', { metadata });
      metadata.reviewKind = 'changed';

      expect(decision.metadata.reviewKind).toBe('dispute');
      expect(Object.isFrozen(decision)).toBe(true);
      expect(Object.isFrozen(decision.metadata)).toBe(true);
    });
  });
});
