import type { Insertable } from 'kysely';
import { toFlag, toInteger } from '../columns.js';
import { enqueueOutboxMessage } from '../outbox.js';
import type { InvoicesTable } from '../schema.js';
import { invoiceSchema, parseStripeObject, stripeObjectType, type Invoice } from '../stripe-objects.js';
import { isNewer, rankIn } from '../versions.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';

/**
 * Invoice handlers. Every invoice event carries the whole Invoice, so the row is the newest
 * event's snapshot. An older event only fills ids the row lacks, because a draft has no number yet.
 */

const INVOICE_LIFECYCLE = [['draft'], ['open'], ['paid', 'uncollectible'], ['void']] as const;

export function invoiceRank(status: string | null): number {
  return rankIn(INVOICE_LIFECYCLE, status);
}

/** Returns the subscription an invoice bills, from `parent.subscription_details` or the pre-2025 field. */
export function invoiceSubscription(invoice: Invoice): string | null {
  return invoice.parent?.subscription_details?.subscription ?? invoice.subscription;
}

function invoiceValues(context: HandlerContext, invoice: Invoice): Insertable<InvoicesTable> {
  return {
    account: context.account,
    invoice_id: invoice.id,
    number: invoice.number,
    customer: invoice.customer,
    subscription: invoiceSubscription(invoice),
    status: invoice.status,
    currency: invoice.currency,
    amount_due: invoice.amount_due,
    amount_paid: invoice.amount_paid,
    attempt_count: invoice.attempt_count,
    next_payment_attempt: invoice.next_payment_attempt,
    billing_reason: invoice.billing_reason,
    invoice_created: invoice.created,
    livemode: toFlag(context.event.livemode),
    last_event_created: context.event.created,
    last_event_id: context.event.id,
  };
}

/** Writes the invoice row and resolves its status after the write. */
async function upsertInvoice(context: HandlerContext, invoice: Invoice): Promise<string> {
  const { trx, account } = context;
  const existing = await trx
    .selectFrom('ledger_invoices')
    .selectAll()
    .where('account', '=', account)
    .where('invoice_id', '=', invoice.id)
    .executeTakeFirst();
  const values = invoiceValues(context, invoice);
  context.effects.push(`invoice:${invoice.id}`);
  if (existing === undefined) {
    await trx.insertInto('ledger_invoices').values(values).execute();
    return values.status;
  }
  const current = { created: toInteger(existing.last_event_created), rank: invoiceRank(existing.status), eventId: existing.last_event_id };
  const newer = isNewer(versionOf(context, invoiceRank(invoice.status)), current);
  const update = newer
    ? { ...values, number: values.number ?? existing.number, customer: values.customer ?? existing.customer, subscription: values.subscription ?? existing.subscription }
    : { number: existing.number ?? values.number, customer: existing.customer ?? values.customer, subscription: existing.subscription ?? values.subscription };
  await trx.updateTable('ledger_invoices').set(update).where('account', '=', account).where('invoice_id', '=', invoice.id).execute();
  return newer ? values.status : existing.status;
}

function parseInvoice(context: HandlerContext): Invoice {
  const type = stripeObjectType(context.event);
  if (type !== 'invoice') throw unsupportedObject(context, type);
  return parseStripeObject(context.event, invoiceSchema);
}

export async function recordInvoice(context: HandlerContext): Promise<void> {
  await upsertInvoice(context, parseInvoice(context));
}

/** Records a failed invoice payment and queues the dunning e-mail once per attempt. */
export async function recordInvoicePaymentFailed(context: HandlerContext): Promise<void> {
  const invoice = parseInvoice(context);
  const status = await upsertInvoice(context, invoice);
  // A failure that arrives after the invoice was paid or voided must not ask the customer to pay.
  if (status !== 'open') return;
  const inserted = await enqueueOutboxMessage(context.trx, {
    topic: 'invoice.payment_failed',
    dedupeKey: `invoice.payment_failed:${context.account}:${invoice.id}:${invoice.attempt_count}`,
    account: context.account,
    payload: {
      account: context.account,
      invoice: invoice.id,
      customer: invoice.customer,
      subscription: invoiceSubscription(invoice),
      amount_due: invoice.amount_due,
      currency: invoice.currency,
      attempt_count: invoice.attempt_count,
      next_payment_attempt: invoice.next_payment_attempt,
      notify_customer: true,
    },
    eventId: context.event.id,
    now: context.now,
  });
  if (inserted) context.effects.push('outbox:invoice.payment_failed');
}

export const invoiceHandlers = {
  record_invoice: recordInvoice,
} satisfies HandlerTable;
