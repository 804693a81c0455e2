import { parseStripeEvent, type StripeEvent } from '../../src/domain/stripe-event.js';
import { readSample } from '../../src/samples/fixtures.js';

export { loadJourneys, type Journey } from '../../src/samples/fixtures.js';
export { readJourneyState, type ExpectedState, type ReadJourneyOptions } from '../../src/samples/journey-state.js';

const eventCache = new Map<string, StripeEvent>();

/** Parses a sample event file; the parsed events are shared, so callers must not change them. */
export function loadEventFile(fileName: string): StripeEvent {
  const cached = eventCache.get(fileName);
  if (cached !== undefined) return cached;
  const parsed = parseStripeEvent(JSON.parse(readSample(fileName).raw));
  if (!parsed.ok) throw new Error(`Sample ${fileName} is not a Stripe event: ${parsed.problem}`);
  eventCache.set(fileName, parsed.event);
  return parsed.event;
}
