import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors.js';
import { listPendingOutbox } from '../../src/ledger/outbox.js';
import { snapshotLedger } from '../../src/ledger/read.js';
import { applyAs, fixtureSnapshot, openMemoryLedger, outboxTopics, type TestLedger } from '../support/ledger-db.js';

let ledger: TestLedger;

beforeEach(async () => {
  ledger = await openMemoryLedger();
});

afterEach(async () => {
  await ledger.close();
});

const DISPUTE_REVIEW = { reviewKind: 'dispute' } as const;

describe('disputes', () => {
  const created = fixtureSnapshot('charge.dispute.created.json');
  const closed = fixtureSnapshot('charge.dispute.closed.json');

  it('closed before created ends lost', async () => {
    await applyAs(ledger.db, closed, 'update_dispute');
    await applyAs(ledger.db, created, 'request_manual_review', DISPUTE_REVIEW, 'urgent');

    const { disputes, manual_reviews: reviews } = await snapshotLedger(ledger.db);
    expect(disputes).toMatchObject([{ status: 'lost', funds_withdrawn: 5000, dispute_fee: 1500, net_loss: 6500, last_event_id: closed.id }]);
    expect(reviews).toMatchObject([{ kind: 'dispute', subject_id: 'du_1z2wfzEx4mPLeAcc07W0v9h6', priority: 'urgent' }]);
  });

  it('won dispute records reinstated funds', async () => {
    const won = fixtureSnapshot('charge.dispute.closed.json', (event) => {
      event.id = 'evt_test_dispute_won';
      event.created += 3600;
      event.data.object['status'] = 'won';
      const withdrawal = (event.data.object['balance_transactions'] as Record<string, unknown>[])[0];
      event.data.object['balance_transactions'] = [withdrawal, { ...withdrawal, id: 'txn_test_reinstated', amount: 5000, fee: 0, net: 5000 }];
    });
    await applyAs(ledger.db, created, 'request_manual_review', DISPUTE_REVIEW, 'urgent');
    await applyAs(ledger.db, won, 'update_dispute');

    expect((await snapshotLedger(ledger.db)).disputes).toMatchObject([
      { status: 'won', funds_withdrawn: 5000, funds_reinstated: 5000, dispute_fee: 1500, net_loss: null },
    ]);
  });

  it('keeps money totals when an older event lacks them', async () => {
    const bare = fixtureSnapshot('charge.dispute.created.json', (event) => {
      event.id = 'evt_test_dispute_without_transactions';
      event.created -= 60;
      event.data.object['balance_transactions'] = [];
      event.data.object['status'] = 'warning_needs_response';
    });
    await applyAs(ledger.db, closed, 'update_dispute');
    await applyAs(ledger.db, bare, 'update_dispute');

    expect((await snapshotLedger(ledger.db)).disputes).toMatchObject([{ status: 'lost', funds_withdrawn: 5000, net_loss: 6500 }]);
  });

  it('rejects a dispute without amount', async () => {
    const malformed = fixtureSnapshot('charge.dispute.closed.json', (event) => {
      delete event.data.object['amount'];
    });
    await expect(applyAs(ledger.db, malformed, 'update_dispute')).rejects.toThrow(NonRetryableError);
  });
});

describe('manual reviews', () => {
  it('opens one review per subject and kind', async () => {
    const warning = fixtureSnapshot('radar.early_fraud_warning.created.json');
    const updated = fixtureSnapshot('radar.early_fraud_warning.created.json', (event) => {
      event.id = 'evt_test_warning_updated';
      event.type = 'radar.early_fraud_warning.updated';
      event.created += 600;
      event.data.object['actionable'] = false;
    });
    await applyAs(ledger.db, updated, 'request_manual_review', { reviewKind: 'early_fraud_warning' }, 'high');
    await applyAs(ledger.db, warning, 'request_manual_review', { reviewKind: 'early_fraud_warning' }, 'urgent');

    const snapshot = await snapshotLedger(ledger.db);
    expect(snapshot.early_fraud_warnings).toMatchObject([{ actionable: false, last_event_id: updated.id }]);
    expect(snapshot.manual_reviews).toMatchObject([{ kind: 'early_fraud_warning', priority: 'urgent', opened_event_id: warning.id }]);
    expect(await outboxTopics(ledger.db)).toEqual(['manual_review.requested']);
  });

  it('records a risky charge as paid and held', async () => {
    await applyAs(ledger.db, fixtureSnapshot('charge.succeeded.elevated_risk.json'), 'request_manual_review', { reviewKind: 'radar_risk' }, 'high');

    const snapshot = await snapshotLedger(ledger.db);
    expect(snapshot.orders).toMatchObject([{ status: 'paid', on_hold: true, amount_paid: 5000, charge: 'ch_3xFXaeEx4mPLeAcclsF2jlSr' }]);
    expect(snapshot.manual_reviews).toMatchObject([{ kind: 'radar_risk', subject_id: 'ch_3xFXaeEx4mPLeAcclsF2jlSr' }]);
    expect(await outboxTopics(ledger.db)).toEqual(['manual_review.requested']);
  });

  it('records only the review for an unexpected payload', async () => {
    const unexpected = fixtureSnapshot('checkout.session.completed.card_paid.json', (event) => {
      delete event.data.object['payment_status'];
    });
    await applyAs(ledger.db, unexpected, 'request_manual_review', { reviewKind: 'unexpected_payload', field: 'payment_status' });

    const snapshot = await snapshotLedger(ledger.db);
    expect(snapshot.orders).toEqual([]);
    expect(snapshot.manual_reviews).toMatchObject([
      { kind: 'unexpected_payload', subject_id: unexpected.data.object['id'], payment_intent: 'pi_3zx37XEx4mPLeAcckkiDHkmx' },
    ]);
    const [message] = await listPendingOutbox(ledger.db, 10);
    expect(message?.payload).toMatchObject({ kind: 'unexpected_payload', reason: 'Test decision for request_manual_review.' });
  });

  it('records a Radar review', async () => {
    await applyAs(ledger.db, fixtureSnapshot('review.opened.json'), 'request_manual_review', { reviewKind: 'radar_review' }, 'high');

    expect((await snapshotLedger(ledger.db)).radar_reviews).toMatchObject([{ review_id: 'prv_13MZ1LEx4mPLeAccuGi15X5G', open: true, reason: 'rule' }]);
  });
});
