import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Decision } from '../../src/decision/types.js';
import { envelopeOf, parseStripeEvent } from '../../src/domain/stripe-event.js';
import type { IncomingEvent } from '../../src/store/ports.js';

const FIXTURES = new URL('../../fixtures/stripe-events/', import.meta.url);

/** Returns a unique event id, so a backend that keeps data between tests still gets fresh ids. */
export function newEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Builds an event whose payload has the irregular spacing, key order and non-ASCII text of a real
 * body, so a store that re-serialises it instead of keeping the raw text fails the byte check.
 */
export function sampleEvent(overrides: Partial<Omit<IncomingEvent, 'payload'>> = {}): IncomingEvent {
  const id = overrides.id ?? newEventId();
  const type = overrides.type ?? 'payment_intent.succeeded';
  const created = overrides.created ?? 1_786_370_492;
  const livemode = overrides.livemode ?? false;
  const account = overrides.account ?? null;
  const accountField = account === null ? '' : `, "account": ${JSON.stringify(account)}`;
  const payload =
    `{\n  "id": ${JSON.stringify(id)},\n  "object": "event",\n  "type": ${JSON.stringify(type)},` +
    `\n  "created": ${created},   "livemode": ${livemode}${accountField},\n` +
    `  "data": {"object": {"id": "pi_3Sample", "amount": 1999, "description": "Caf\u00e9 \u2615 \u2013 \ud834\udd1e",` +
    ` "escaped": "tab\\tquote\\"", "metadata": {"b": "2", "a": "1"}}}\n}\n`;
  return { id, type, created, livemode, account, payload };
}

/** Reads a Stripe event fixture with its exact file text as the payload. */
export function fixtureEvent(fileName: string): IncomingEvent {
  const payload = readFileSync(new URL(fileName, FIXTURES), 'utf8');
  const parsed = parseStripeEvent(JSON.parse(payload));
  if (!parsed.ok) throw new Error(`Fixture ${fileName} is not a Stripe event: ${parsed.problem}`);
  return { ...envelopeOf(parsed.event), payload };
}

export function sampleDecision(overrides: Partial<Decision> = {}): Decision {
  return {
    action: 'mark_order_paid',
    reason: 'The PaymentIntent succeeded for a known order.',
    priority: 'normal',
    requiresAi: false,
    aiTask: null,
    provider: null,
    retryable: true,
    metadata: { orderId: 'order_1001', amount: 1999, captured: true, note: null },
    ...overrides,
  };
}
