import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotEvent } from '../../src/domain/stripe-event.js';
import { snapshotLedger } from '../../src/ledger/read.js';
import { applyAs, fixtureSnapshot, openMemoryLedger, outboxTopics, type TestLedger } from '../support/ledger-db.js';

let ledger: TestLedger;

beforeEach(async () => {
  ledger = await openMemoryLedger();
});

afterEach(async () => {
  await ledger.close();
});

const REFUND_FILES: Readonly<Record<string, string>> = {
  'refund 1000': 'refund.created.partial.json',
  'charge says 1000': 'charge.refunded.partial.json',
  'refund 2000': 'refund.created.remainder.json',
  'charge says 3000': 'charge.refunded.full.json',
};

function refundEvent(name: string): SnapshotEvent {
  const fileName = REFUND_FILES[name];
  if (fileName === undefined) throw new Error(`No refund event is named "${name}".`);
  return fixtureSnapshot(fileName);
}

/** What the ledger can know from each subset: both refunds are 1000 + 2000 = 3000 of a 3000 payment. */
const TRUE_TOTALS: readonly (readonly [string[], number])[] = [
  [[], 0],
  [['refund 1000'], 1000],
  [['charge says 1000'], 1000],
  [['refund 1000', 'charge says 1000'], 1000],
  [['refund 2000'], 2000],
  [['refund 1000', 'refund 2000'], 3000],
  [['charge says 1000', 'refund 2000'], 3000],
  [['refund 1000', 'charge says 1000', 'refund 2000'], 3000],
  [['charge says 3000'], 3000],
  [['refund 1000', 'charge says 3000'], 3000],
  [['refund 2000', 'charge says 3000'], 3000],
  [['charge says 1000', 'charge says 3000'], 3000],
  [['refund 1000', 'refund 2000', 'charge says 3000'], 3000],
  [['refund 1000', 'charge says 1000', 'refund 2000', 'charge says 3000'], 3000],
];

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

async function paidCardOrder(): Promise<void> {
  await applyAs(ledger.db, fixtureSnapshot('charge.succeeded.json'), 'mark_order_paid');
}

async function onlyOrder() {
  const { orders } = await snapshotLedger(ledger.db);
  expect(orders).toHaveLength(1);
  return orders[0];
}

describe('refunded totals', () => {
  it.each(TRUE_TOTALS.map(([names, total]) => [names.join(' + ') || 'no refund event', names, total] as const))(
    '%s in any order',
    async (_label, names, total) => {
      for (const ordering of permutations(names)) {
        const current = await openMemoryLedger();
        await applyAs(current.db, fixtureSnapshot('charge.succeeded.json'), 'mark_order_paid');
        for (const name of ordering) await applyAs(current.db, refundEvent(name), 'handle_refund');
        const { orders } = await snapshotLedger(current.db);
        await current.close();

        const label = ordering.join(' → ');
        expect(orders, label).toHaveLength(1);
        expect(orders[0]?.amount_refunded, label).toBe(total);
        let status = 'partially_refunded';
        if (total === 0) status = 'paid';
        if (total >= 3000) status = 'refunded';
        expect(orders[0]?.status, label).toBe(status);
      }
    },
  );

  it('counts charge and refund events for one refund once', async () => {
    await paidCardOrder();
    await applyAs(ledger.db, fixtureSnapshot('refund.created.partial.json'), 'handle_refund');
    await applyAs(ledger.db, fixtureSnapshot('charge.refunded.partial.json'), 'handle_refund');
    await applyAs(ledger.db, fixtureSnapshot('refund.updated.json'), 'handle_refund');

    expect(await onlyOrder()).toMatchObject({ amount_refunded: 1000, status: 'partially_refunded' });
    expect((await snapshotLedger(ledger.db)).refunds).toHaveLength(1);
    expect(await outboxTopics(ledger.db)).toEqual(['order.paid', 'refund.recorded']);
  });

  it('takes a failed refund off the total', async () => {
    const failed = fixtureSnapshot('refund.created.partial.json', (event) => {
      event.id = 'evt_test_refund_failed';
      event.type = 'refund.failed';
      event.created = refundEvent('charge says 1000').created + 3600;
      event.data.object['status'] = 'failed';
      event.data.object['failure_reason'] = 'expired_or_canceled_card';
    });
    await paidCardOrder();
    await applyAs(ledger.db, fixtureSnapshot('refund.created.partial.json'), 'handle_refund');
    await applyAs(ledger.db, fixtureSnapshot('charge.refunded.partial.json'), 'handle_refund');
    await applyAs(ledger.db, failed, 'handle_refund');

    expect(await onlyOrder()).toMatchObject({ amount_refunded: 0, status: 'paid' });
    expect((await snapshotLedger(ledger.db)).refunds).toMatchObject([{ status: 'failed', failure_reason: 'expired_or_canceled_card' }]);
  });

  it('keeps the newer refund status', async () => {
    const pendingLater = fixtureSnapshot('refund.updated.json', (event) => {
      event.created = refundEvent('refund 1000').created - 1;
      event.data.object['status'] = 'pending';
    });
    await applyAs(ledger.db, fixtureSnapshot('refund.created.partial.json'), 'handle_refund');
    await applyAs(ledger.db, pendingLater, 'handle_refund');

    expect((await snapshotLedger(ledger.db)).refunds).toMatchObject([{ status: 'succeeded', last_event_id: refundEvent('refund 1000').id }]);
  });
});

describe('a refund before its payment', () => {
  it('creates the order and completes it later', async () => {
    await applyAs(ledger.db, fixtureSnapshot('refund.created.partial.json'), 'handle_refund');
    expect(await onlyOrder()).toMatchObject({ status: 'pending', amount_paid: 0, amount_refunded: 1000, order_reference: null });

    await applyAs(ledger.db, fixtureSnapshot('refund.updated.json'), 'handle_refund');
    await paidCardOrder();

    expect(await onlyOrder()).toMatchObject({ status: 'partially_refunded', amount_paid: 3000, amount_refunded: 1000, order_reference: 'order_10001' });
  });
});
