import type { Kysely } from 'kysely';
import { z } from 'zod';
import { fromFlag, fromNullableFlag, toInteger, toNullableInteger } from '../ledger/columns.js';
import { snapshotLedger } from '../ledger/read.js';
import type { LedgerDatabase } from '../ledger/schema.js';

/**
 * Reads the ledger back in the vocabulary of the sample journeys (order, payment, subscription,
 * invoices, refunds, dispute, dunning …), so `send --verify` and the tests can compare it with a
 * journey's expected final state.
 */

export type ExpectedState = Record<string, unknown>;

type Db = Kysely<LedgerDatabase>;

function stringOf(expected: unknown, key: string): string | undefined {
  if (typeof expected !== 'object' || expected === null) return undefined;
  const value = (expected as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

async function findOrderRow(db: Db, expected: unknown) {
  const account = stringOf(expected, 'account') ?? '';
  const reference = stringOf(expected, 'order_id') ?? stringOf(expected, 'platform_order_id');
  const paymentIntent = stringOf(expected, 'payment_intent');
  const checkoutSession = stringOf(expected, 'checkout_session');
  const charge = stringOf(expected, 'charge');
  const query = db.selectFrom('ledger_orders').selectAll().where('account', '=', account);
  if (reference !== undefined) return query.where('order_reference', '=', reference).executeTakeFirst();
  if (paymentIntent !== undefined) return query.where('payment_intent', '=', paymentIntent).executeTakeFirst();
  if (checkoutSession !== undefined) return query.where('checkout_session', '=', checkoutSession).executeTakeFirst();
  if (charge !== undefined) return query.where('charge', '=', charge).executeTakeFirst();
  throw new Error('An expected order names no order_id, payment_intent, checkout_session or charge to find it by.');
}

async function readOrder(db: Db, expected: unknown) {
  const row = await findOrderRow(db, expected);
  if (row === undefined) return null;
  return {
    order_id: row.order_reference,
    checkout_session: row.checkout_session,
    payment_intent: row.payment_intent,
    charge: row.charge,
    currency: row.currency,
    amount_total: toNullableInteger(row.amount_total),
    status: row.status,
    amount_paid: toInteger(row.amount_paid),
    amount_refunded: toInteger(row.amount_refunded),
    failure_code: row.failure_code,
    decline_code: row.decline_code,
    retryable: fromNullableFlag(row.retryable),
    on_hold: fromFlag(row.on_hold),
  };
}

async function readPayment(db: Db, expected: unknown) {
  const row = await findOrderRow(db, expected);
  if (row === undefined) return null;
  const byPayment = { paymentIntent: row.payment_intent ?? '', charge: row.charge ?? '' };
  const review = await db
    .selectFrom('ledger_radar_reviews')
    .selectAll()
    .where('account', '=', row.account)
    .where((where) => where.or([where('payment_intent', '=', byPayment.paymentIntent), where('charge', '=', byPayment.charge)]))
    .executeTakeFirst();
  const warning = await db
    .selectFrom('ledger_early_fraud_warnings')
    .selectAll()
    .where('account', '=', row.account)
    .where((where) => where.or([where('payment_intent', '=', byPayment.paymentIntent), where('charge', '=', byPayment.charge)]))
    .executeTakeFirst();
  return {
    payment_intent: row.payment_intent,
    charge: row.charge,
    amount: toInteger(row.amount_paid),
    currency: row.currency,
    status: row.status,
    on_hold: fromFlag(row.on_hold),
    review: review === undefined ? null : { id: review.review_id, open: fromFlag(review.open), reason: review.reason },
    early_fraud_warning:
      warning === undefined ? null : { id: warning.warning_id, fraud_type: warning.fraud_type, actionable: fromFlag(warning.actionable) },
  };
}

async function readConnectedAccountPayment(db: Db, expected: unknown) {
  const row = await findOrderRow(db, expected);
  if (row === undefined) return null;
  return {
    account: row.account,
    payment_intent: row.payment_intent,
    status: row.status,
    amount: toInteger(row.amount_paid),
    application_fee_amount: toNullableInteger(row.application_fee_amount),
    platform_order_id: row.order_reference,
  };
}

async function readDispute(db: Db, expected: unknown) {
  const id = stringOf(expected, 'id');
  if (id === undefined) throw new Error('An expected dispute names no id.');
  const row = await db.selectFrom('ledger_disputes').selectAll().where('dispute_id', '=', id).executeTakeFirst();
  if (row === undefined) return null;
  return {
    id: row.dispute_id,
    status: row.status,
    reason: row.reason,
    amount: toInteger(row.amount),
    currency: row.currency,
    evidence_due_by: toNullableInteger(row.evidence_due_by),
    funds_withdrawn: toInteger(row.funds_withdrawn),
    dispute_fee: toInteger(row.dispute_fee),
    net_loss: toNullableInteger(row.net_loss),
  };
}

/** Returns the `action` of the newest trial reminder queued for the subscription, or null. */
async function trialReminderAction(db: Db, subscriptionId: string): Promise<string | null> {
  const messages = await db.selectFrom('ledger_outbox').select(['payload']).where('topic', '=', 'trial.ending_reminder').execute();
  const actions = messages
    .map((message) => z.object({ subscription: z.string(), action: z.string() }).parse(JSON.parse(message.payload)))
    .filter((payload) => payload.subscription === subscriptionId)
    .map((payload) => payload.action);
  return actions.at(-1) ?? null;
}

async function readSubscription(db: Db, expected: unknown) {
  const id = stringOf(expected, 'id');
  if (id === undefined) throw new Error('An expected subscription names no id.');
  const row = await db.selectFrom('ledger_subscriptions').selectAll().where('subscription_id', '=', id).executeTakeFirst();
  if (row === undefined) return null;
  return {
    id: row.subscription_id,
    customer: row.customer,
    status: row.status,
    access: fromFlag(row.access),
    price: row.price,
    current_period_start: toNullableInteger(row.current_period_start),
    current_period_end: toNullableInteger(row.current_period_end),
    default_payment_method: row.default_payment_method,
    latest_invoice: row.latest_invoice,
    trial_end: toNullableInteger(row.trial_end),
    has_payment_method: fromFlag(row.has_payment_method),
    canceled_at: toNullableInteger(row.canceled_at),
    ended_at: toNullableInteger(row.ended_at),
    cancellation_reason: row.cancellation_reason,
    action: await trialReminderAction(db, row.subscription_id),
  };
}

async function readInvoices(db: Db, scope: Scope) {
  let query = db.selectFrom('ledger_invoices').selectAll();
  if (scope.subscription !== undefined) query = query.where('subscription', '=', scope.subscription);
  const rows = await query.orderBy('invoice_created').orderBy('invoice_id').execute();
  return rows.map((row) => ({
    id: row.invoice_id,
    number: row.number,
    status: row.status,
    customer: row.customer,
    subscription: row.subscription,
    amount_due: toInteger(row.amount_due),
    amount_paid: toInteger(row.amount_paid),
    attempt_count: toInteger(row.attempt_count),
    next_payment_attempt: toNullableInteger(row.next_payment_attempt),
    billing_reason: row.billing_reason,
  }));
}

async function readRefunds(db: Db, scope: Scope) {
  let query = db.selectFrom('ledger_refunds').selectAll();
  if (scope.charge !== undefined) query = query.where('charge', '=', scope.charge);
  const rows = await query.orderBy('refund_created').orderBy('refund_id').execute();
  return rows.map((row) => ({
    id: row.refund_id,
    amount: toInteger(row.amount),
    status: row.status,
    reason: row.reason,
    charge: row.charge,
    payment_intent: row.payment_intent,
  }));
}

async function readCustomer(db: Db, expected: unknown) {
  const id = stringOf(expected, 'id');
  if (id === undefined) throw new Error('An expected customer names no id.');
  const row = await db.selectFrom('ledger_customers').selectAll().where('customer_id', '=', id).executeTakeFirst();
  return row === undefined ? null : { id: row.customer_id, email: row.email };
}

async function readDunning(db: Db, eventIds: readonly string[] | undefined) {
  let query = db.selectFrom('ledger_outbox').select(['payload']).where('topic', '=', 'invoice.payment_failed');
  if (eventIds !== undefined) query = query.where('created_event_id', 'in', nonEmpty(eventIds));
  const messages = await query.execute();
  const notifies = messages.some((message) => z.object({ notify_customer: z.boolean() }).parse(JSON.parse(message.payload)).notify_customer);
  return { notify_customer: notifies };
}

/** Lists every business row and outbox message, each named by its table and the event that last wrote it. */
async function readStateChanges(db: Db, eventIds: readonly string[] | undefined): Promise<string[]> {
  const touched = (eventId: string): boolean => eventIds === undefined || eventIds.includes(eventId);
  const snapshot = await snapshotLedger(db);
  const changes = Object.entries(snapshot).flatMap(([table, records]: [string, { last_event_id: string }[]]) =>
    records.filter((record) => touched(record.last_event_id)).map((record) => `${table}:${record.last_event_id}`),
  );
  const messages = await db.selectFrom('ledger_outbox').select(['topic', 'created_event_id']).execute();
  changes.push(
    ...messages.filter((message) => touched(message.created_event_id)).map((message) => `outbox:${message.topic}:${message.created_event_id}`),
  );
  return changes;
}

async function countMarkers(db: Db, eventIds?: readonly string[]): Promise<number> {
  let query = db.selectFrom('ledger_applied_events').select((select) => select.fn.countAll().as('count'));
  if (eventIds !== undefined) query = query.where('event_id', 'in', nonEmpty(eventIds));
  const row = await query.executeTakeFirstOrThrow();
  return toInteger(row.count);
}

export interface ReadJourneyOptions {
  /**
   * Ids of the journey's events. With them, counts, dunning and state changes consider only these
   * events, so one ledger can hold many journeys; `acknowledged` is true when each one has an
   * applied marker.
   */
  readonly eventIds?: readonly string[];
}

/** Related ids that narrow list-shaped keys (invoices, refunds) to one journey's objects. */
interface Scope {
  readonly subscription: string | undefined;
  readonly charge: string | undefined;
}

/** Keeps `IN (…)` valid for an empty list; no event id is empty. */
function nonEmpty(ids: readonly string[]): string[] {
  return ids.length === 0 ? [''] : [...ids];
}

/**
 * Reads the ledger into the journeys' vocabulary, one key for each key of `expected`. Records
 * carry every field of the vocabulary, so compare with `toMatchObject`. A key without a mapping
 * raises, so a new journey field can never pass unchecked.
 */
export async function readJourneyState(db: Db, expected: ExpectedState, options: ReadJourneyOptions = {}): Promise<Record<string, unknown>> {
  const actual: Record<string, unknown> = {};
  const eventIds = options.eventIds;
  const scope: Scope =
    eventIds === undefined
      ? { subscription: undefined, charge: undefined }
      : { subscription: stringOf(expected.subscription, 'id'), charge: stringOf(expected.order, 'charge') };
  for (const [key, value] of Object.entries(expected)) {
    switch (key) {
      case 'order':
        actual[key] = await readOrder(db, value);
        break;
      case 'payment':
        actual[key] = await readPayment(db, value);
        break;
      case 'connected_account_payment':
        actual[key] = await readConnectedAccountPayment(db, value);
        break;
      case 'dispute':
        actual[key] = await readDispute(db, value);
        break;
      case 'subscription':
        actual[key] = await readSubscription(db, value);
        break;
      case 'invoices':
        actual[key] = await readInvoices(db, scope);
        break;
      case 'refunds':
        actual[key] = await readRefunds(db, scope);
        break;
      case 'customer':
        actual[key] = await readCustomer(db, value);
        break;
      case 'dunning':
        actual[key] = await readDunning(db, eventIds);
        break;
      case 'processed_event_ids_count':
        actual[key] = await countMarkers(db, eventIds);
        break;
      case 'state_changes':
        actual[key] = await readStateChanges(db, eventIds);
        break;
      case 'acknowledged': {
        actual[key] = eventIds === undefined ? (await countMarkers(db)) > 0 : (await countMarkers(db, eventIds)) === new Set(eventIds).size;
        break;
      }
      default:
        throw new Error(`The journey field "${key}" has no mapping onto the ledger; add one to readJourneyState.`);
    }
  }
  return actual;
}
