import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action } from '../../src/decision/types.js';
import { NonRetryableError } from '../../src/errors.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { snapshotLedger } from '../../src/ledger/read.js';
import { applyAs, fixtureSnapshot, handMadeDecision, loadFixtureEvent, openMemoryLedger, outboxTopics, type TestLedger } from '../support/ledger-db.js';

let ledger: TestLedger;

beforeEach(async () => {
  ledger = await openMemoryLedger();
});

afterEach(async () => {
  await ledger.close();
});

async function markers() {
  return ledger.db.selectFrom('ledger_applied_events').selectAll().orderBy('event_id').execute();
}

describe('applyEvent', () => {
  it('applies an event once', async () => {
    const event = fixtureSnapshot('charge.succeeded.json');
    const first = await applyAs(ledger.db, event, 'mark_order_paid');
    const snapshot = await snapshotLedger(ledger.db);
    const second = await applyAs(ledger.db, event, 'mark_order_paid');

    expect(first).toEqual({ applied: true, effects: ['order:pi_3zx37XEx4mPLeAcckkiDHkmx', 'outbox:order.paid'] });
    expect(second).toEqual({ applied: false, reason: 'already_applied' });
    expect(await snapshotLedger(ledger.db)).toEqual(snapshot);
    expect(await outboxTopics(ledger.db)).toEqual(['order.paid']);
  });

  it('records the marker with the event envelope', async () => {
    const event = loadFixtureEvent('payment_intent.succeeded.connect_account.json');
    await applyEvent(ledger.db, { event, decision: handMadeDecision('mark_order_paid') }, { clock: () => Date.parse('2026-09-01T12:00:00.000Z') });

    expect(await markers()).toEqual([
      {
        event_id: event.id,
        event_type: 'payment_intent.succeeded',
        action: 'mark_order_paid',
        account: 'acct_1QfakeCoNNectAcc',
        event_created: 1786615203,
        applied_at: '2026-09-01T12:00:00.000Z',
      },
    ]);
  });

  it('applies concurrent deliveries once', async () => {
    const event = fixtureSnapshot('payment_intent.succeeded.json');
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => applyAs(ledger.db, event, 'mark_order_paid')));

    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
    expect(await outboxTopics(ledger.db)).toEqual(['order.paid']);
  });

  it.each(['ignore_event', 'invoke_ai_enrichment'] satisfies Action[])('%s writes only the marker', async (action) => {
    const outcome = await applyAs(ledger.db, fixtureSnapshot('charge.succeeded.json'), action);

    expect(outcome).toEqual({ applied: true, effects: [] });
    expect(await markers()).toHaveLength(1);
    expect((await snapshotLedger(ledger.db)).orders).toEqual([]);
    expect(await outboxTopics(ledger.db)).toEqual([]);
  });

  it('ignores a thin event', async () => {
    const thin = loadFixtureEvent('v2.core.event.v1.billing.meter.error_report_triggered.notification.json');
    expect(await applyEvent(ledger.db, { event: thin, decision: handMadeDecision('ignore_event') })).toEqual({ applied: true, effects: [] });
  });
});

describe('when the handler fails', () => {
  it('rolls back the marker and every row', async () => {
    // A trigger makes the outbox insert fail after the order row was written in the same transaction.
    await sql`CREATE TRIGGER reject_outbox BEFORE INSERT ON ledger_outbox BEGIN SELECT RAISE(ABORT, 'outbox rejected by test trigger'); END`.execute(ledger.db);
    const event = fixtureSnapshot('charge.succeeded.json');

    await expect(applyAs(ledger.db, event, 'mark_order_paid')).rejects.toThrow(/outbox rejected by test trigger/);
    expect(await markers()).toEqual([]);
    expect((await snapshotLedger(ledger.db)).orders).toEqual([]);

    await sql`DROP TRIGGER reject_outbox`.execute(ledger.db);
    expect(await applyAs(ledger.db, event, 'mark_order_paid')).toMatchObject({ applied: true });
    expect(await outboxTopics(ledger.db)).toEqual(['order.paid']);
  });

  it('rejects a thin event with a business action', async () => {
    const thin = loadFixtureEvent('v2.core.event.v1.billing.meter.error_report_triggered.notification.json');
    await expect(applyEvent(ledger.db, { event: thin, decision: handMadeDecision('mark_order_paid') })).rejects.toThrow(NonRetryableError);
    expect(await markers()).toEqual([]);
  });

  it('rejects an unknown action', async () => {
    const decision = { ...handMadeDecision('mark_order_paid'), action: 'send_flowers' as Action };
    await expect(applyEvent(ledger.db, { event: fixtureSnapshot('charge.succeeded.json'), decision })).rejects.toThrow(/No ledger handler exists for action "send_flowers"/);
    expect(await markers()).toEqual([]);
  });
});
