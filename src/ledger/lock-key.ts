import type { StripeEvent } from '../domain/stripe-event.js';
import { accountKey } from './columns.js';

/** Object types whose rows hang off a payment: they lock on its PaymentIntent, else its charge. */
const PAYMENT_CHILD_TYPES = new Set(['refund', 'dispute', 'radar.early_fraud_warning', 'review']);

/** Reads an id from a field that is a string, or an expanded object with an `id`. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'object' && value !== null) {
    const id = (value as { id?: unknown }).id;
    if (typeof id === 'string' && id !== '') return id;
  }
  return null;
}

function invoiceSubscription(object: Record<string, unknown>): string | null {
  const parent = object['parent'];
  if (typeof parent === 'object' && parent !== null) {
    const details = (parent as { subscription_details?: unknown }).subscription_details;
    if (typeof details === 'object' && details !== null) {
      const subscription = idOf((details as { subscription?: unknown }).subscription);
      if (subscription !== null) return subscription;
    }
  }
  // Before API version 2025-03-31.basil the subscription id sat on the invoice itself.
  return idOf(object['subscription']);
}

function rootIdOf(type: unknown, object: Record<string, unknown>): string | null {
  const objectId = idOf(object['id']);
  switch (type) {
    case 'checkout.session':
    case 'charge':
      return idOf(object['payment_intent']) ?? objectId;
    case 'invoice':
      return invoiceSubscription(object) ?? objectId;
    default:
      if (typeof type === 'string' && PAYMENT_CHILD_TYPES.has(type)) {
        return idOf(object['payment_intent']) ?? idOf(object['charge']) ?? objectId;
      }
      // PaymentIntents, subscriptions, customers and every other object lock on themselves.
      return objectId;
  }
}

/**
 * Returns the key of the Stripe object whose ledger rows the event touches, `${account}:${rootId}`,
 * so the worker applies events about one object one at a time. The root is the PaymentIntent for
 * payment objects (Checkout Sessions, charges, refunds, disputes, early fraud warnings, Radar
 * reviews) when they have one, the subscription for subscriptions and their invoices, and the
 * object itself otherwise. Thin events and objects without an id lock on the event id.
 */
export function lockKeyFor(event: StripeEvent): string {
  if (event.object === 'v2.core.event') return `${accountKey(event.context)}:${event.id}`;
  const object = event.data.object;
  const rootId = rootIdOf(object['object'], object) ?? event.id;
  return `${accountKey(event.account)}:${rootId}`;
}
