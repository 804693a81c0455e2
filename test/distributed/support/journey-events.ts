import { decide } from '../../../src/decision/decide.js';
import type { Decision, DecisionContext } from '../../../src/decision/types.js';
import { parseStripeEvent, type StripeEvent } from '../../../src/domain/stripe-event.js';
import type { JourneyCopy } from '../../../src/samples/instantiate.js';

/** The decision context of the default configuration (test mode, manual review above 1,000.00). */
export const DECISION_CONTEXT: DecisionContext = { livemode: false, manualReviewAmount: 100_000 };

export interface DecidedEvent {
  readonly event: StripeEvent;
  readonly decision: Decision;
}

/** Parses raw event bytes and decides on them as a worker would. */
export function decideRaw(raw: string): DecidedEvent {
  const parsed = parseStripeEvent(JSON.parse(raw));
  if (!parsed.ok) throw new Error(`Sample event is not a Stripe event: ${parsed.problem}`);
  return { event: parsed.event, decision: decide(parsed.event, DECISION_CONTEXT) };
}

/** Parses and decides the events of a journey copy, in its listed order. */
export function decidedEventsOf(copy: JourneyCopy): DecidedEvent[] {
  return copy.events.map((sample) => decideRaw(sample.raw));
}

/** A small seeded generator (mulberry32), so a failing shuffle can be repeated from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Returns a shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}
