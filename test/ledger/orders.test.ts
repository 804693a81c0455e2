import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors.js';
import { findLedgerRecord, snapshotLedger } from '../../src/ledger/read.js';
import { applyAs, fixtureSnapshot, openMemoryLedger, outboxTopics, type TestLedger } from '../support/ledger-db.js';

const CARD_PAYMENT_INTENT = 'pi_3zx37XEx4mPLeAcckkiDHkmx';

let ledger: TestLedger;

beforeEach(async () => {
  ledger = await openMemoryLedger();
});

afterEach(async () => {
  await ledger.close();
});

/** The payment_intent.payment_failed fixture moved onto the card journey's PaymentIntent. */
function cardPaymentFailedAt(created: number, eventId: string) {
  return fixtureSnapshot('payment_intent.payment_failed.json', (event) => {
    event.id = eventId;
    event.created = created;
    event.data.object['id'] = CARD_PAYMENT_INTENT;
  });
}

async function onlyOrder() {
  const { orders } = await snapshotLedger(ledger.db);
  expect(orders).toHaveLength(1);
  return orders[0];
}

describe('when events about one order arrive out of order', () => {
  const succeeded = fixtureSnapshot('payment_intent.succeeded.json');
  const olderFailure = cardPaymentFailedAt(succeeded.created - 60, 'evt_test_older_failure');

  it('older failure keeps the order paid', async () => {
    await applyAs(ledger.db, succeeded, 'mark_order_paid');
    await applyAs(ledger.db, olderFailure, 'mark_payment_failed');

    const order = await onlyOrder();
    expect(order?.status).toBe('paid');
    expect(order?.failure_code).toBeNull();
    expect(order?.payment_outcome_event_id).toBe(succeeded.id);
  });

  it('newer payment overrides older failure', async () => {
    await applyAs(ledger.db, olderFailure, 'mark_payment_failed');
    await applyAs(ledger.db, succeeded, 'mark_order_paid');

    const order = await onlyOrder();
    expect(order?.status).toBe('paid');
    expect(order?.decline_code).toBeNull();
    expect(order?.amount_paid).toBe(3000);
  });

  it('older event still fills unknown ids', async () => {
    const olderSession = fixtureSnapshot('checkout.session.completed.card_paid.json', (event) => {
      event.created = succeeded.created - 100;
    });
    await applyAs(ledger.db, succeeded, 'mark_order_paid');
    await applyAs(ledger.db, olderSession, 'mark_order_awaiting_payment');

    const order = await onlyOrder();
    expect(order?.order_reference).toBe('order_10001');
    expect(order?.checkout_session).toBe(olderSession.data.object['id']);
    expect(order?.status).toBe('paid');
    expect(order?.payment_outcome_event_id).toBe(succeeded.id);
  });

  it.each([
    ['awaiting first', ['awaiting', 'paid']],
    ['paid first', ['paid', 'awaiting']],
  ] as const)('tie within one second goes to paid (%s)', async (_label, sequence) => {
    const paid = fixtureSnapshot('checkout.session.async_payment_succeeded.json');
    const awaiting = fixtureSnapshot('checkout.session.completed.sepa_pending.json', (event) => {
      event.created = paid.created;
    });
    for (const step of sequence) {
      if (step === 'paid') await applyAs(ledger.db, paid, 'mark_order_paid');
      else await applyAs(ledger.db, awaiting, 'mark_order_awaiting_payment');
    }
    const order = await onlyOrder();
    expect(order?.status).toBe('paid');
    expect(order?.payment_outcome_event_id).toBe(paid.id);
  });
});

describe('order messages', () => {
  it('sends order.paid once for three paid events', async () => {
    await applyAs(ledger.db, fixtureSnapshot('charge.succeeded.json'), 'mark_order_paid');
    await applyAs(ledger.db, fixtureSnapshot('payment_intent.succeeded.json'), 'mark_order_paid');
    await applyAs(ledger.db, fixtureSnapshot('checkout.session.completed.card_paid.json'), 'mark_order_paid');

    expect(await outboxTopics(ledger.db)).toEqual(['order.paid']);
  });

  it('holds a large payment without order.paid', async () => {
    const session = fixtureSnapshot('checkout.session.completed.card_paid.json');
    await applyAs(ledger.db, session, 'request_manual_review', { reviewKind: 'large_payment' }, 'high');
    await applyAs(ledger.db, fixtureSnapshot('payment_intent.succeeded.json'), 'mark_order_paid');

    const order = await onlyOrder();
    expect(order?.status).toBe('paid');
    expect(order?.on_hold).toBe(true);
    expect(await outboxTopics(ledger.db)).toEqual(['manual_review.requested']);
    const { manual_reviews: reviews } = await snapshotLedger(ledger.db);
    expect(reviews).toMatchObject([{ kind: 'large_payment', subject_id: CARD_PAYMENT_INTENT, priority: 'high', status: 'open' }]);
  });

  it('sends order.payment_failed with the decline', async () => {
    await applyAs(ledger.db, fixtureSnapshot('payment_intent.payment_failed.json'), 'mark_payment_failed');

    const rows = await ledger.db.selectFrom('ledger_outbox').selectAll().execute();
    expect(rows.map((row) => row.topic)).toEqual(['order.payment_failed']);
    expect(JSON.parse(rows[0]?.payload ?? '{}')).toMatchObject({ failure_code: 'card_declined', decline_code: 'generic_decline', order_reference: 'order_10005' });
  });
});

describe('order identity', () => {
  it('keeps same ids under two accounts apart', async () => {
    const platform = fixtureSnapshot('payment_intent.succeeded.json');
    const connected = fixtureSnapshot('payment_intent.succeeded.json', (event) => {
      event.id = 'evt_test_connected_copy';
      event.account = 'acct_1TestOtherAcc';
      event.data.object['amount_received'] = 1200;
    });
    await applyAs(ledger.db, platform, 'mark_order_paid');
    await applyAs(ledger.db, connected, 'mark_order_paid');

    const { orders } = await snapshotLedger(ledger.db);
    expect(orders.map((order) => [order.account, order.amount_paid])).toEqual([
      ['', 3000],
      ['acct_1TestOtherAcc', 1200],
    ]);
    const found = await findLedgerRecord(ledger.db, CARD_PAYMENT_INTENT, 'acct_1TestOtherAcc');
    expect(found?.kind).toBe('order');
    expect(found?.account).toBe('acct_1TestOtherAcc');
    expect(await outboxTopics(ledger.db)).toEqual(['order.paid', 'order.paid']);
  });

  it('merges two rows one event links', async () => {
    const sessionWithoutIntent = fixtureSnapshot('checkout.session.completed.card_paid.json', (event) => {
      event.id = 'evt_test_session_without_intent';
      event.created -= 10;
      event.data.object['payment_intent'] = null;
      event.data.object['payment_status'] = 'unpaid';
    });
    await applyAs(ledger.db, sessionWithoutIntent, 'mark_order_awaiting_payment');
    await applyAs(ledger.db, fixtureSnapshot('charge.succeeded.json'), 'mark_order_paid');
    expect((await snapshotLedger(ledger.db)).orders).toHaveLength(2);

    await applyAs(ledger.db, fixtureSnapshot('checkout.session.completed.card_paid.json'), 'mark_order_paid');

    const order = await onlyOrder();
    expect(order).toMatchObject({
      order_reference: 'order_10001',
      checkout_session: sessionWithoutIntent.data.object['id'],
      payment_intent: CARD_PAYMENT_INTENT,
      charge: 'ch_3DgAUuEx4mPLeAccJH5JS5oA',
      status: 'paid',
    });
  });

  it('records a failed charge without taking its id', async () => {
    const failedCharge = fixtureSnapshot('charge.succeeded.json', (event) => {
      event.type = 'charge.failed';
      event.data.object['status'] = 'failed';
      event.data.object['failure_code'] = 'card_declined';
    });
    await applyAs(ledger.db, failedCharge, 'mark_payment_failed');

    expect(await onlyOrder()).toMatchObject({ status: 'payment_failed', failure_code: 'card_declined', charge: null, payment_intent: CARD_PAYMENT_INTENT });
  });
});

describe('malformed order events', () => {
  it('rejects a non-numeric amount as non-retryable', async () => {
    const malformed = fixtureSnapshot('payment_intent.succeeded.json', (event) => {
      event.data.object['amount'] = 'three thousand';
    });
    await expect(applyAs(ledger.db, malformed, 'mark_order_paid')).rejects.toThrow(NonRetryableError);
    await expect(applyAs(ledger.db, malformed, 'mark_order_paid')).rejects.toThrow(/data\.object\.amount/);
    expect(await ledger.db.selectFrom('ledger_applied_events').selectAll().execute()).toEqual([]);
    expect((await snapshotLedger(ledger.db)).orders).toEqual([]);
  });

  it('rejects an object the action does not cover', async () => {
    await expect(applyAs(ledger.db, fixtureSnapshot('customer.created.json'), 'mark_order_paid')).rejects.toThrow(NonRetryableError);
    await expect(applyAs(ledger.db, fixtureSnapshot('invoice.paid.json'), 'cancel_order')).rejects.toThrow(/does not apply to objects of type "invoice"/);
  });
});
