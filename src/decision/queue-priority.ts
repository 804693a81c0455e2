import { HANDLED_EVENT_TYPES } from './table.js';
import type { Priority } from './types.js';

/** Event types whose decision is urgent or high whatever the object contains. */
const RAISED_PRIORITY: Readonly<Record<string, Priority>> = {
  'charge.dispute.created': 'urgent',
  'radar.early_fraud_warning.created': 'high',
  'radar.early_fraud_warning.updated': 'high',
  'review.opened': 'high',
};

/**
 * Returns the queue priority of an event type: the lowest priority the decision engine gives that
 * type, read without the event object so ingest does no decision work. Types the engine ignores
 * run last. A decision may still raise an event above this (a large payment goes to review with
 * priority high), which the queue cannot know before the worker decides.
 */
export function queuePriorityFor(eventType: string): Priority {
  const raised = RAISED_PRIORITY[eventType];
  if (raised !== undefined) return raised;
  return HANDLED_EVENT_TYPES.includes(eventType) ? 'normal' : 'low';
}
