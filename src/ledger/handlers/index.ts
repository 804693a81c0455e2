import type { Action } from '../../decision/types.js';
import { stripeObjectType } from '../stripe-objects.js';
import type { Handler, HandlerContext } from './context.js';
import { customerHandlers } from './customers.js';
import { disputeHandlers } from './disputes.js';
import { invoiceHandlers, recordInvoicePaymentFailed } from './invoices.js';
import { markOrderPaymentFailed, orderHandlers } from './orders.js';
import { refundHandlers } from './refunds.js';
import { reviewHandlers } from './reviews.js';
import { subscriptionHandlers } from './subscriptions.js';

/** Actions with no ledger effect: only the applied marker is written. */
async function writeNothing(): Promise<void> {}

/** Sends a failed payment to the invoice handler (subscriptions) or the order handler (one-off payments). */
async function markPaymentFailed(context: HandlerContext): Promise<void> {
  if (stripeObjectType(context.event) === 'invoice') return recordInvoicePaymentFailed(context);
  return markOrderPaymentFailed(context);
}

/** One handler per action; `satisfies` makes the compiler flag an action without one. */
export const LEDGER_HANDLERS = {
  ...orderHandlers,
  ...subscriptionHandlers,
  ...invoiceHandlers,
  ...customerHandlers,
  ...refundHandlers,
  ...reviewHandlers,
  ...disputeHandlers,
  mark_payment_failed: markPaymentFailed,
  invoke_ai_enrichment: writeNothing,
  ignore_event: writeNothing,
} as const satisfies Readonly<Record<Action, Handler>>;
