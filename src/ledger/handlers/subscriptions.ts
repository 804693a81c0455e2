import type { Insertable, Selectable } from 'kysely';
import { fromFlag, toFlag, toInteger } from '../columns.js';
import { enqueueOutboxMessage } from '../outbox.js';
import type { SubscriptionsTable } from '../schema.js';
import { parseStripeObject, stripeObjectType, subscriptionSchema, type Subscription } from '../stripe-objects.js';
import { isNewer, rankIn } from '../versions.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';
import { recordInvoice } from './invoices.js';

/**
 * Subscription handlers. Every subscription event carries the whole Subscription, so the row is the
 * newest event's snapshot and an older event changes nothing.
 */

/** Stripe's subscription lifecycle; the rank breaks ties between events of one second. */
const SUBSCRIPTION_LIFECYCLE = [['incomplete'], ['trialing'], ['active'], ['past_due'], ['unpaid', 'paused'], ['incomplete_expired'], ['canceled']] as const;

const ACCESS_STATUSES = new Set(['active', 'trialing']);

export function subscriptionRank(status: string | null): number {
  return rankIn(SUBSCRIPTION_LIFECYCLE, status);
}

function subscriptionValues(context: HandlerContext, subscription: Subscription): Insertable<SubscriptionsTable> {
  // Since API version 2025-03-31.basil the billing period lives on each subscription item.
  const item = subscription.items.data[0];
  const defaultPaymentMethod = subscription.default_payment_method;
  return {
    account: context.account,
    subscription_id: subscription.id,
    customer: subscription.customer,
    status: subscription.status,
    access: toFlag(ACCESS_STATUSES.has(subscription.status)),
    price: item?.price?.id ?? null,
    current_period_start: item?.current_period_start ?? subscription.current_period_start,
    current_period_end: item?.current_period_end ?? subscription.current_period_end,
    default_payment_method: defaultPaymentMethod,
    has_payment_method: toFlag(defaultPaymentMethod !== null || subscription.default_source !== null),
    latest_invoice: subscription.latest_invoice,
    trial_end: subscription.trial_end,
    cancel_at_period_end: toFlag(subscription.cancel_at_period_end ?? false),
    canceled_at: subscription.canceled_at,
    ended_at: subscription.ended_at,
    cancellation_reason: subscription.cancellation_details?.reason ?? null,
    livemode: toFlag(context.event.livemode),
    last_event_created: context.event.created,
    last_event_id: context.event.id,
  };
}

interface SubscriptionUpsert {
  readonly before: Selectable<SubscriptionsTable> | undefined;
  /** Whether the subscription grants access after this event. */
  readonly access: boolean;
}

async function upsertSubscription(context: HandlerContext, subscription: Subscription): Promise<SubscriptionUpsert> {
  const { trx, account } = context;
  const before = await trx
    .selectFrom('ledger_subscriptions')
    .selectAll()
    .where('account', '=', account)
    .where('subscription_id', '=', subscription.id)
    .executeTakeFirst();
  const values = subscriptionValues(context, subscription);
  context.effects.push(`subscription:${subscription.id}`);
  if (before === undefined) {
    await trx.insertInto('ledger_subscriptions').values(values).execute();
    return { before, access: fromFlag(values.access) };
  }
  const current = { created: toInteger(before.last_event_created), rank: subscriptionRank(before.status), eventId: before.last_event_id };
  if (!isNewer(versionOf(context, subscriptionRank(subscription.status)), current)) {
    return { before, access: fromFlag(before.access) };
  }
  await trx.updateTable('ledger_subscriptions').set(values).where('account', '=', account).where('subscription_id', '=', subscription.id).execute();
  return { before, access: fromFlag(values.access) };
}

/** Writes the subscription and sends an access message when access changed. */
async function applySubscription(context: HandlerContext): Promise<Subscription> {
  const type = stripeObjectType(context.event);
  if (type !== 'subscription') throw unsupportedObject(context, type);
  const subscription = parseStripeObject(context.event, subscriptionSchema);
  const { before, access } = await upsertSubscription(context, subscription);
  const hadAccess = before !== undefined && fromFlag(before.access);
  if (access !== hadAccess) {
    const topic = access ? 'subscription.access_granted' : 'subscription.access_revoked';
    // Access can be granted and revoked many times over a subscription's life; each change is one fact.
    const inserted = await enqueueOutboxMessage(context.trx, {
      topic,
      dedupeKey: `${topic}:${context.account}:${subscription.id}:${context.event.id}`,
      account: context.account,
      payload: { account: context.account, subscription: subscription.id, customer: subscription.customer, status: subscription.status },
      eventId: context.event.id,
      now: context.now,
    });
    if (inserted) context.effects.push(`outbox:${topic}`);
  }
  return subscription;
}

async function recordSubscriptionEvent(context: HandlerContext): Promise<void> {
  // The description of activate_subscription also covers an invoice paid for a subscription.
  if (stripeObjectType(context.event) === 'invoice') return recordInvoice(context);
  await applySubscription(context);
}

async function remindTrialEnding(context: HandlerContext): Promise<void> {
  const subscription = await applySubscription(context);
  const hasPaymentMethod = subscription.default_payment_method !== null || subscription.default_source !== null;
  const inserted = await enqueueOutboxMessage(context.trx, {
    topic: 'trial.ending_reminder',
    dedupeKey: `trial.ending_reminder:${context.account}:${subscription.id}:${subscription.trial_end ?? 'none'}`,
    account: context.account,
    payload: {
      account: context.account,
      subscription: subscription.id,
      customer: subscription.customer,
      trial_end: subscription.trial_end,
      has_payment_method: hasPaymentMethod,
      action: hasPaymentMethod ? 'notify_customer_of_trial_end' : 'remind_customer_to_add_payment_method',
    },
    eventId: context.event.id,
    now: context.now,
  });
  if (inserted) context.effects.push('outbox:trial.ending_reminder');
}

export const subscriptionHandlers = {
  activate_subscription: recordSubscriptionEvent,
  update_subscription: recordSubscriptionEvent,
  cancel_subscription: recordSubscriptionEvent,
  remind_trial_ending: remindTrialEnding,
} satisfies HandlerTable;
