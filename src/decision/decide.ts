import type { StripeEvent } from '../domain/stripe-event.js';
import { ignoreEvent } from './decision-for.js';
import { ruleFor } from './table.js';
import type { Decision, DecisionContext } from './types.js';

export { decisionFor, DECISION_DEFAULTS, type DecisionOverrides } from './decision-for.js';
export { DECISION_TABLE, HANDLED_EVENT_TYPES, type DecisionRow } from './table.js';

/**
 * Decides what the worker does with one event. The function is pure: it performs no I/O, reads
 * no clock or random source, does not mutate its input, and returns an equal Decision for equal
 * input. Thin events and events of the other mode are ignored before the decision table is read.
 */
export function decide(event: StripeEvent, context: DecisionContext): Decision {
  if (event.object === 'v2.core.event') {
    return ignoreEvent('Thin event notifications carry no object snapshot, so the event is recorded only.');
  }

  if (event.livemode !== context.livemode) {
    return ignoreEvent(`${modeName(event.livemode)} event received by a ${modeName(context.livemode).toLowerCase()} deployment.`, {
      livemode: event.livemode,
    });
  }

  const rule = ruleFor(event.type);
  if (rule === undefined) return ignoreEvent(`No rule for event type ${event.type}.`);

  return rule({ eventType: event.type, object: event.data.object, context });
}

function modeName(livemode: boolean): string {
  return livemode ? 'Live-mode' : 'Test-mode';
}
