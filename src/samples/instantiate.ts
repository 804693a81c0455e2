import type { Journey, SampleEvent } from './fixtures.js';
import { readSample } from './fixtures.js';

/**
 * A journey whose Stripe ids were made unique, so many copies of the same journey can run
 * against one ledger without sharing orders, subscriptions or events.
 */
export interface JourneyCopy {
  readonly journey: Journey;
  readonly tag: string;
  /** Events in the journey's listed order; a file listed twice appears twice with the same id. */
  readonly events: readonly SampleEvent[];
  readonly expected: Record<string, unknown>;
  readonly checkpoints: Record<string, Record<string, unknown>>;
}

/** Keys whose string values are Stripe object ids or the user's own order reference. */
const ID_KEYS = new Set(['id', 'client_reference_id', 'order_id', 'platform_order_id']);

/** Account ids are kept: the copy belongs to the same Stripe account as the original. */
const KEPT_PREFIXES = ['acct_', 'ca_'];

/**
 * Returns a copy of the journey with every object id, event id and order reference suffixed by
 * `tag`. With an empty tag the events are the original bytes.
 */
export function instantiateJourney(journey: Journey, tag: string): JourneyCopy {
  const originals = journey.events.map((file) => readSample(file));
  if (tag === '') {
    return {
      journey,
      tag,
      events: originals,
      expected: journey.expected_final_state,
      checkpoints: journey.checkpoints ?? {},
    };
  }
  if (!/^[A-Za-z0-9]+$/.test(tag)) throw new Error(`Journey copy tag "${tag}" should contain only letters and digits.`);

  const ids = new Set<string>();
  for (const event of originals) collectIds(JSON.parse(event.raw), ids);
  collectIds(journey.expected_final_state, ids);

  // Longest first, so an id that contains a shorter one is replaced whole.
  const ordered = [...ids].sort((a, b) => b.length - a.length);
  const rewrite = (text: string): string => {
    let result = text;
    for (const id of ordered) result = result.split(id).join(`${id}${tag}`);
    return result;
  };

  return {
    journey,
    tag,
    events: originals.map((event) => ({ file: event.file, raw: rewrite(event.raw) })),
    expected: JSON.parse(rewrite(JSON.stringify(journey.expected_final_state))) as Record<string, unknown>,
    checkpoints: JSON.parse(rewrite(JSON.stringify(journey.checkpoints ?? {}))) as Record<string, Record<string, unknown>>,
  };
}

function collectIds(value: unknown, ids: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectIds(item, ids);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (typeof child === 'string' && isIdKey(key) && isRewritableId(child)) ids.add(child);
    else collectIds(child, ids);
  }
}

function isIdKey(key: string): boolean {
  return ID_KEYS.has(key) || key.endsWith('_id') || isReferenceKey(key);
}

/** Fields that hold another object's id (`payment_intent`, `charge`, `latest_invoice`, …). */
function isReferenceKey(key: string): boolean {
  return [
    'payment_intent',
    'charge',
    'customer',
    'subscription',
    'invoice',
    'latest_invoice',
    'latest_charge',
    'checkout_session',
    'review',
    'refund',
    'dispute',
    'payment_method',
    'default_payment_method',
    'price',
    'product',
    'balance_transaction',
  ].includes(key);
}

function isRewritableId(value: string): boolean {
  if (!/^[a-z][a-z0-9]*_[A-Za-z0-9_]+$/.test(value)) return false;
  return !KEPT_PREFIXES.some((prefix) => value.startsWith(prefix));
}
