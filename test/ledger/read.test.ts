import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import { NotFoundError } from '../../src/errors.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { listPendingOutbox, markOutboxSent } from '../../src/ledger/outbox.js';
import { findLedgerRecord, snapshotLedger } from '../../src/ledger/read.js';
import { loadEventFile, loadJourneys } from '../support/journeys.js';
import { openMemoryLedger, type TestLedger } from '../support/ledger-db.js';

const JOURNEYS = ['refund_full_after_partial', 'subscription_canceled_after_failed_payments', 'fraud_dispute_lost', 'connect_direct_charge'];

let ledger: TestLedger;

beforeAll(async () => {
  ledger = await openMemoryLedger();
  for (const journey of loadJourneys().filter((candidate) => JOURNEYS.includes(candidate.id))) {
    for (const fileName of journey.events) {
      const event = loadEventFile(fileName);
      await applyEvent(ledger.db, { event, decision: decide(event, { livemode: false, manualReviewAmount: 100_000 }) });
    }
  }
});

afterAll(async () => {
  await ledger.close();
});

describe('findLedgerRecord', () => {
  it.each([
    ['cs_test_a1iPuAayr1PGEbk1OZZgMDj7mpsr8K818I61Xy1EtjLfHUkpr1OhDVdLi7'],
    ['pi_3zx37XEx4mPLeAcckkiDHkmx'],
    ['ch_3DgAUuEx4mPLeAccJH5JS5oA'],
    ['order_10001'],
  ])('finds the order by %s', async (id) => {
    const found = await findLedgerRecord(ledger.db, id);
    expect(found?.kind).toBe('order');
    if (found?.kind !== 'order') return;
    expect(found.record).toMatchObject({ order_reference: 'order_10001', status: 'refunded', amount_refunded: 3000 });
    expect(found.related.refunds.map((refund) => [refund.refund_id, refund.amount])).toEqual([
      ['re_342BcNEx4mPLeAccioU9pQvx', 1000],
      ['re_3PR3SEEx4mPLeAccaQBz70Ie', 2000],
    ]);
  });

  it('finds a refund and its order', async () => {
    const found = await findLedgerRecord(ledger.db, 're_3PR3SEEx4mPLeAccaQBz70Ie');
    expect(found).toMatchObject({ kind: 'refund', account: '', record: { amount: 2000, status: 'succeeded' }, related: { order: { order_reference: 'order_10001' } } });
  });

  it('finds a subscription with customer and invoices', async () => {
    const found = await findLedgerRecord(ledger.db, 'sub_1o23k8Ex4mPLeAccKo4iY8n4');
    expect(found?.kind).toBe('subscription');
    if (found?.kind !== 'subscription') return;
    expect(found.record).toMatchObject({ status: 'canceled', access: false });
    expect(found.related.customer?.email).toBe('test.subscriber@example.com');
    expect(found.related.invoices.map((invoice) => invoice.number)).toEqual(['A1B2C3D4-0001', 'A1B2C3D4-0002']);
  });

  it('finds an invoice, a customer and fraud records', async () => {
    expect(await findLedgerRecord(ledger.db, 'in_1AfWhZEx4mPLeAccHeWzfLPn')).toMatchObject({
      kind: 'invoice',
      record: { status: 'open', attempt_count: 1 },
      related: { subscription: { subscription_id: 'sub_1o23k8Ex4mPLeAccKo4iY8n4' } },
    });
    expect(await findLedgerRecord(ledger.db, 'cus_KInjI7uTG6cTKq')).toMatchObject({ kind: 'customer', related: { subscriptions: [{ status: 'canceled' }] } });
    expect(await findLedgerRecord(ledger.db, 'du_1z2wfzEx4mPLeAcc07W0v9h6')).toMatchObject({
      kind: 'dispute',
      record: { status: 'lost', net_loss: 6500 },
      related: { order: { charge: 'ch_3xFXaeEx4mPLeAcclsF2jlSr', on_hold: true }, manual_reviews: [{ kind: 'dispute' }] },
    });
    expect(await findLedgerRecord(ledger.db, 'issfr_1NpCYhEx4mPLeAccM02PR9od')).toMatchObject({ kind: 'early_fraud_warning', related: { order: { amount_paid: 5000 } } });
    expect(await findLedgerRecord(ledger.db, 'prv_13MZ1LEx4mPLeAccuGi15X5G')).toMatchObject({ kind: 'radar_review', record: { open: true } });
  });

  it('lists the manual reviews of an order', async () => {
    const found = await findLedgerRecord(ledger.db, 'pi_3r7Sr2Ex4mPLeAcc69lVgZSp');
    expect(found?.kind).toBe('order');
    if (found?.kind !== 'order') return;
    expect(found.related.manual_reviews.map((review) => review.kind).sort()).toEqual(['dispute', 'early_fraud_warning', 'radar_review', 'radar_risk']);
    expect(found.related.disputes).toHaveLength(1);
  });

  it('scopes lookups by account', async () => {
    const connectIntent = 'pi_3L8pM5CoNNectAccu3fsz1uz';
    expect(await findLedgerRecord(ledger.db, connectIntent)).toMatchObject({ kind: 'order', account: 'acct_1QfakeCoNNectAcc' });
    expect(await findLedgerRecord(ledger.db, connectIntent, 'acct_1QfakeCoNNectAcc')).toMatchObject({ record: { application_fee_amount: 500 } });
    expect(await findLedgerRecord(ledger.db, connectIntent, '')).toBeNull();
    expect(await findLedgerRecord(ledger.db, 'order_20001', 'acct_1QfakeCoNNectAcc')).toMatchObject({ kind: 'order' });
  });

  it('returns null for an unknown id', async () => {
    expect(await findLedgerRecord(ledger.db, 're_unknown')).toBeNull();
    expect(await findLedgerRecord(ledger.db, 'order_99999')).toBeNull();
  });
});

describe('snapshotLedger', () => {
  it('leaves out surrogate and wall-clock columns', async () => {
    const snapshot = await snapshotLedger(ledger.db);
    const columns = new Set(Object.values(snapshot).flatMap((records: object[]) => records.flatMap((record) => Object.keys(record))));
    for (const hidden of ['id', 'applied_at', 'created_at', 'sent_at']) expect(columns.has(hidden), hidden).toBe(false);
    expect(snapshot.orders.map((order) => order.account)).toEqual(['', '', 'acct_1QfakeCoNNectAcc']);
  });
});

describe('outbox', () => {
  it('lists pending messages and marks them sent', async () => {
    const pending = await listPendingOutbox(ledger.db, 100);
    expect(pending.map((message) => message.topic)).toContain('invoice.payment_failed');
    expect(await listPendingOutbox(ledger.db, 2)).toHaveLength(2);

    const [first] = pending;
    if (first === undefined) throw new Error('the journeys queued no message');
    await markOutboxSent(ledger.db, first.id, { now: new Date('2026-09-30T00:00:00.000Z') });

    const after = await listPendingOutbox(ledger.db, 100);
    expect(after.map((message) => message.id)).not.toContain(first.id);
    expect(after).toHaveLength(pending.length - 1);
    const sent = await ledger.db.selectFrom('ledger_outbox').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, sent_at: '2026-09-30T00:00:00.000Z' });
  });

  it('rejects marking an unknown message', async () => {
    await expect(markOutboxSent(ledger.db, 'no-such-message')).rejects.toThrow(NotFoundError);
  });
});
