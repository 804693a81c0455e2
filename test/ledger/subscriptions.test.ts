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

async function onlySubscription() {
  const { subscriptions } = await snapshotLedger(ledger.db);
  expect(subscriptions).toHaveLength(1);
  return subscriptions[0];
}

describe('subscriptions', () => {
  const activated = fixtureSnapshot('customer.subscription.updated.activated.json');
  const pastDue = fixtureSnapshot('customer.subscription.updated.past_due.json');

  it('older event does not overwrite newer status', async () => {
    await applyAs(ledger.db, pastDue, 'update_subscription');
    await applyAs(ledger.db, activated, 'activate_subscription');

    expect(await onlySubscription()).toMatchObject({ status: 'past_due', access: false, last_event_id: pastDue.id, current_period_start: 1789117230 });
    // Access was never granted by the ledger, so nothing is revoked either.
    expect(await outboxTopics(ledger.db)).toEqual([]);
  });

  it.each([
    ['canceled first', true],
    ['active first', false],
  ] as const)('tie within one second goes to canceled (%s)', async (_label, canceledFirst) => {
    const canceled = fixtureSnapshot('customer.subscription.deleted.json', (event) => {
      event.created = activated.created;
    });
    const steps = canceledFirst ? [canceled, activated] : [activated, canceled];
    for (const event of steps) await applyAs(ledger.db, event, event === canceled ? 'cancel_subscription' : 'activate_subscription');

    expect(await onlySubscription()).toMatchObject({ status: 'canceled', access: false, cancellation_reason: 'payment_failed' });
  });

  it('sends access granted then revoked', async () => {
    await applyAs(ledger.db, fixtureSnapshot('customer.subscription.created.json'), 'update_subscription');
    await applyAs(ledger.db, activated, 'activate_subscription');
    await applyAs(ledger.db, pastDue, 'update_subscription');

    const messages = await listPendingOutbox(ledger.db, 10);
    expect(messages.map((message) => [message.topic, message.payload['status']])).toEqual([
      ['subscription.access_granted', 'active'],
      ['subscription.access_revoked', 'past_due'],
    ]);
  });

  it('rejects a subscription without customer', async () => {
    const malformed = fixtureSnapshot('customer.subscription.created.json', (event) => {
      delete event.data.object['customer'];
    });
    await expect(applyAs(ledger.db, malformed, 'update_subscription')).rejects.toThrow(NonRetryableError);
    expect((await snapshotLedger(ledger.db)).subscriptions).toEqual([]);
  });
});

describe('trial reminders', () => {
  it('asks for a payment method when none is set', async () => {
    await applyAs(ledger.db, fixtureSnapshot('customer.subscription.trial_will_end.json'), 'remind_trial_ending');

    const reminder = (await listPendingOutbox(ledger.db, 10)).find((message) => message.topic === 'trial.ending_reminder');
    expect(reminder?.payload).toMatchObject({ action: 'remind_customer_to_add_payment_method', has_payment_method: false, trial_end: 1787738400 });
    expect(await onlySubscription()).toMatchObject({ status: 'trialing', access: true, has_payment_method: false });
  });

  it('only notifies when a payment method exists', async () => {
    const withMethod = fixtureSnapshot('customer.subscription.trial_will_end.json', (event) => {
      event.data.object['default_payment_method'] = 'pm_1TestCardForTrial';
    });
    await applyAs(ledger.db, withMethod, 'remind_trial_ending');

    const reminder = (await listPendingOutbox(ledger.db, 10)).find((message) => message.topic === 'trial.ending_reminder');
    expect(reminder?.payload).toMatchObject({ action: 'notify_customer_of_trial_end', has_payment_method: true });
  });
});

describe('invoices', () => {
  it('records an invoice before its subscription', async () => {
    await applyAs(ledger.db, fixtureSnapshot('invoice.paid.json'), 'record_invoice');
    await applyAs(ledger.db, fixtureSnapshot('customer.subscription.created.json'), 'update_subscription');

    const { invoices } = await snapshotLedger(ledger.db);
    expect(invoices).toMatchObject([{ invoice_id: 'in_1fmBnxEx4mPLeAcc0mGEfLUC', subscription: 'sub_1o23k8Ex4mPLeAccKo4iY8n4', status: 'paid' }]);
  });

  it('older finalized does not reopen a paid invoice', async () => {
    await applyAs(ledger.db, fixtureSnapshot('invoice.paid.json'), 'record_invoice');
    await applyAs(ledger.db, fixtureSnapshot('invoice.finalized.json'), 'record_invoice');

    expect((await snapshotLedger(ledger.db)).invoices).toMatchObject([{ status: 'paid', amount_paid: 1500, attempt_count: 1 }]);
  });

  it('queues the dunning message once per attempt', async () => {
    const failed = fixtureSnapshot('invoice.payment_failed.json');
    const secondAttempt = fixtureSnapshot('invoice.payment_failed.json', (event) => {
      event.id = 'evt_test_second_attempt';
      event.created += 3 * 86_400;
      event.data.object['attempt_count'] = 2;
    });
    await applyAs(ledger.db, failed, 'mark_payment_failed');
    await applyAs(ledger.db, secondAttempt, 'mark_payment_failed');

    const messages = await listPendingOutbox(ledger.db, 10);
    expect(messages.map((message) => [message.topic, message.payload['attempt_count'], message.payload['notify_customer']])).toEqual([
      ['invoice.payment_failed', 1, true],
      ['invoice.payment_failed', 2, true],
    ]);
  });

  it('skips dunning for an invoice already paid', async () => {
    const paidLater = fixtureSnapshot('invoice.paid.json', (event) => {
      event.data.object['id'] = 'in_1AfWhZEx4mPLeAccHeWzfLPn';
      event.created = fixtureSnapshot('invoice.payment_failed.json').created + 60;
    });
    await applyAs(ledger.db, paidLater, 'record_invoice');
    await applyAs(ledger.db, fixtureSnapshot('invoice.payment_failed.json'), 'mark_payment_failed');

    expect(await outboxTopics(ledger.db)).toEqual([]);
    expect((await snapshotLedger(ledger.db)).invoices).toMatchObject([{ status: 'paid' }]);
  });
});

describe('customers', () => {
  it('older update keeps the newer e-mail', async () => {
    const created = fixtureSnapshot('customer.created.json');
    const updated = fixtureSnapshot('customer.created.json', (event) => {
      event.id = 'evt_test_customer_updated';
      event.type = 'customer.updated';
      event.created += 600;
      event.data.object['email'] = 'test.subscriber.new@example.com';
    });
    await applyAs(ledger.db, updated, 'record_customer');
    await applyAs(ledger.db, created, 'record_customer');

    expect((await snapshotLedger(ledger.db)).customers).toMatchObject([{ email: 'test.subscriber.new@example.com', last_event_id: updated.id }]);
  });

  it('keeps one customer id per account', async () => {
    const connected = fixtureSnapshot('customer.created.json', (event) => {
      event.id = 'evt_test_connected_customer';
      event.account = 'acct_1TestOtherAcc';
    });
    await applyAs(ledger.db, fixtureSnapshot('customer.created.json'), 'record_customer');
    await applyAs(ledger.db, connected, 'record_customer');

    expect((await snapshotLedger(ledger.db)).customers.map((customer) => customer.account)).toEqual(['', 'acct_1TestOtherAcc']);
  });
});
