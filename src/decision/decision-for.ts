import type { Action, Decision } from './types.js';

/** Decision fields other than the action and reason, each of which a rule may override. */
export type DecisionOverrides = Partial<Omit<Decision, 'action' | 'reason'>>;

/** Field values that a Decision has unless a rule overrides them. */
export const DECISION_DEFAULTS: Readonly<Required<DecisionOverrides>> = Object.freeze({
  priority: 'normal',
  requiresAi: false,
  aiTask: null,
  provider: null,
  retryable: true,
  metadata: Object.freeze({}),
});

/**
 * Builds a frozen Decision from the defaults, so every rule states only what differs.
 * The metadata is copied, so a caller's object is never shared between decisions.
 */
export function decisionFor(action: Action, reason: string, overrides: DecisionOverrides = {}): Decision {
  // Each field falls back on its own, so an override that is present but undefined keeps the default.
  return Object.freeze({
    action,
    reason,
    priority: overrides.priority ?? DECISION_DEFAULTS.priority,
    requiresAi: overrides.requiresAi ?? DECISION_DEFAULTS.requiresAi,
    aiTask: overrides.aiTask ?? DECISION_DEFAULTS.aiTask,
    provider: overrides.provider ?? DECISION_DEFAULTS.provider,
    retryable: overrides.retryable ?? DECISION_DEFAULTS.retryable,
    metadata: Object.freeze({ ...(overrides.metadata ?? DECISION_DEFAULTS.metadata) }),
  });
}

/** Builds an `ignore_event` Decision that is not retryable, because a retry cannot change its outcome. */
export function ignoreEvent(reason: string, metadata: Decision['metadata'] = {}): Decision {
  return decisionFor('ignore_event', reason, { retryable: false, metadata });
}
