import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/decision/types.js';
import { customerHandlers } from '../../src/ledger/handlers/customers.js';
import { disputeHandlers } from '../../src/ledger/handlers/disputes.js';
import { LEDGER_HANDLERS } from '../../src/ledger/handlers/index.js';
import { invoiceHandlers } from '../../src/ledger/handlers/invoices.js';
import { orderHandlers } from '../../src/ledger/handlers/orders.js';
import { refundHandlers } from '../../src/ledger/handlers/refunds.js';
import { reviewHandlers } from '../../src/ledger/handlers/reviews.js';
import { subscriptionHandlers } from '../../src/ledger/handlers/subscriptions.js';

describe('handler registry', () => {
  it('has one handler per action', () => {
    expect(Object.keys(LEDGER_HANDLERS).sort()).toEqual([...ACTIONS].sort());
  });

  it('gives each action to one area', () => {
    const areas = [orderHandlers, subscriptionHandlers, invoiceHandlers, customerHandlers, refundHandlers, reviewHandlers, disputeHandlers];
    const actions = areas.flatMap((area) => Object.keys(area));
    expect(new Set(actions).size).toBe(actions.length);
  });
});
