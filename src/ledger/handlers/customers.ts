import { toFlag, toInteger } from '../columns.js';
import { customerSchema, parseStripeObject, stripeObjectType } from '../stripe-objects.js';
import { isNewer } from '../versions.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';

/** Customers: the newest event's snapshot wins. Customers have no status, so every event ranks 0. */
async function recordCustomer(context: HandlerContext): Promise<void> {
  const type = stripeObjectType(context.event);
  if (type !== 'customer') throw unsupportedObject(context, type);
  const customer = parseStripeObject(context.event, customerSchema);
  const { trx, account, event } = context;
  const values = {
    account,
    customer_id: customer.id,
    email: customer.email,
    livemode: toFlag(event.livemode),
    last_event_created: event.created,
    last_event_id: event.id,
  };
  context.effects.push(`customer:${customer.id}`);

  const existing = await trx
    .selectFrom('ledger_customers')
    .select(['last_event_created', 'last_event_id'])
    .where('account', '=', account)
    .where('customer_id', '=', customer.id)
    .executeTakeFirst();
  if (existing === undefined) {
    await trx.insertInto('ledger_customers').values(values).execute();
    return;
  }
  const current = { created: toInteger(existing.last_event_created), rank: 0, eventId: existing.last_event_id };
  if (!isNewer(versionOf(context, 0), current)) return;
  await trx.updateTable('ledger_customers').set(values).where('account', '=', account).where('customer_id', '=', customer.id).execute();
}

export const customerHandlers = {
  record_customer: recordCustomer,
} satisfies HandlerTable;
