import type { z } from 'zod';
import { decisionFor } from './decision-for.js';
import type { Decision, DecisionContext } from './types.js';

/** Input of a rule: the event type, the snapshot in `data.object`, and the decision context. */
export interface RuleInput {
  readonly eventType: string;
  readonly object: Readonly<Record<string, unknown>>;
  readonly context: DecisionContext;
}

/** Turns the snapshot of one event type into a Decision, without I/O. */
export type Rule = (input: RuleInput) => Decision;

/**
 * Builds a rule that first checks `data.object` against `schema`. An object that does not match
 * is bad data for a type the pipeline handles, so it goes to a person instead of being dropped.
 */
export function withPayload<Schema extends z.ZodType>(
  schema: Schema,
  decideFromFields: (fields: z.output<Schema>, input: RuleInput) => Decision,
): Rule {
  return (input) => {
    const parsed = schema.safeParse(input.object);
    if (!parsed.success) return unexpectedPayload(input.eventType, firstInvalidField(parsed.error));
    return decideFromFields(parsed.data, input);
  };
}

/** Builds the manual review for an object whose field needed by its rule is missing or invalid. */
export function unexpectedPayload(eventType: string, field: string): Decision {
  return decisionFor(
    'request_manual_review',
    `The ${eventType} event has a missing or invalid data.object.${field} field, so a person must check it.`,
    { metadata: { reviewKind: 'unexpected_payload', field } },
  );
}

function firstInvalidField(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined || issue.path.length === 0) return 'object';
  return issue.path.map(String).join('.');
}

/**
 * Formats a Stripe amount for a reason. Amounts stay in the currency's smallest unit, as in the
 * Stripe API and the `manualReviewAmount` setting, so no per-currency exponent table is needed.
 */
export function formatAmount(amount: number, currency: string | null | undefined): string {
  return currency === null || currency === undefined ? String(amount) : `${amount} ${currency}`;
}

/** Returns true when an amount, in the smallest currency unit, is above the configured manual review amount. */
export function isAboveReviewAmount(amount: number | null | undefined, context: DecisionContext): boolean {
  // NOTE: the threshold is one number for every currency, so 100000 means 1,000.00 USD but only
  // 100,000 JPY (a zero-decimal currency). A per-currency threshold does not exist yet.
  return amount !== null && amount !== undefined && amount > context.manualReviewAmount;
}

/** Returns what happened, from the last segment of an event type: "funds_withdrawn" becomes "funds withdrawn". */
export function eventVerb(eventType: string): string {
  const lastSegment = eventType.slice(eventType.lastIndexOf('.') + 1);
  return lastSegment.replaceAll('_', ' ');
}
