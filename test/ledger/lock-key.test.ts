import { describe, expect, it } from 'vitest';
import { lockKeyFor } from '../../src/ledger/lock-key.js';
import { fixtureSnapshot, loadFixtureEvent } from '../support/ledger-db.js';

const CARD_INTENT = 'pi_3zx37XEx4mPLeAcckkiDHkmx';
const FRAUD_INTENT = 'pi_3r7Sr2Ex4mPLeAcc69lVgZSp';
const SUBSCRIPTION = 'sub_1o23k8Ex4mPLeAccKo4iY8n4';

describe('lockKeyFor', () => {
  it.each([
    ['charge.succeeded.json', `:${CARD_INTENT}`],
    ['payment_intent.succeeded.json', `:${CARD_INTENT}`],
    ['checkout.session.completed.card_paid.json', `:${CARD_INTENT}`],
    ['checkout.session.expired.json', ':cs_test_a1PKWrou3numECEyuFbsQvhd0h2s7gmy0cr7jki0xP4FC0FC8UgBBhkwXE'],
    ['refund.created.partial.json', `:${CARD_INTENT}`],
    ['charge.refunded.partial.json', `:${CARD_INTENT}`],
    ['charge.dispute.created.json', `:${FRAUD_INTENT}`],
    ['radar.early_fraud_warning.created.json', `:${FRAUD_INTENT}`],
    ['review.opened.json', `:${FRAUD_INTENT}`],
    ['customer.subscription.created.json', `:${SUBSCRIPTION}`],
    ['invoice.paid.json', `:${SUBSCRIPTION}`],
    ['invoice.payment_failed.json', `:${SUBSCRIPTION}`],
    ['customer.created.json', ':cus_KInjI7uTG6cTKq'],
    ['product.created.json', ':prod_ycMoZYOMjflcIa'],
    ['payment_intent.succeeded.connect_account.json', 'acct_1QfakeCoNNectAcc:pi_3L8pM5CoNNectAccu3fsz1uz'],
    ['v2.core.event.v1.billing.meter.error_report_triggered.notification.json', ':evt_test_65e3tD9N06b3ca9ACzr8rZXQegonzk2Wb3zoInDVF7wISV7A'],
  ])('%s locks %s', (fileName, key) => {
    expect(lockKeyFor(loadFixtureEvent(fileName))).toBe(key);
  });

  it('uses the invoice without a subscription', () => {
    const invoice = fixtureSnapshot('invoice.paid.json', (event) => {
      event.data.object['parent'] = null;
    });
    expect(lockKeyFor(invoice)).toBe(':in_1fmBnxEx4mPLeAcc0mGEfLUC');
  });

  it('reads the pre-2025 invoice subscription field', () => {
    const invoice = fixtureSnapshot('invoice.paid.json', (event) => {
      event.data.object['parent'] = null;
      event.data.object['subscription'] = 'sub_1TestLegacyField';
    });
    expect(lockKeyFor(invoice)).toBe(':sub_1TestLegacyField');
  });

  it('falls back to the charge without PaymentIntent', () => {
    const charge = fixtureSnapshot('charge.succeeded.json', (event) => {
      event.data.object['payment_intent'] = null;
    });
    const refund = fixtureSnapshot('refund.created.partial.json', (event) => {
      event.data.object['payment_intent'] = null;
    });
    expect(lockKeyFor(charge)).toBe(':ch_3DgAUuEx4mPLeAccJH5JS5oA');
    expect(lockKeyFor(refund)).toBe(':ch_3DgAUuEx4mPLeAccJH5JS5oA');
  });

  it('reads an expanded PaymentIntent', () => {
    const charge = fixtureSnapshot('charge.succeeded.json', (event) => {
      event.data.object['payment_intent'] = { id: CARD_INTENT, object: 'payment_intent' };
    });
    expect(lockKeyFor(charge)).toBe(`:${CARD_INTENT}`);
  });

  it('uses the event id without object id', () => {
    const event = fixtureSnapshot('product.created.json', (copy) => {
      delete copy.data.object['id'];
    });
    expect(lockKeyFor(event)).toBe(`:${event.id}`);
  });
});
