import { z } from 'zod';
import type { AiTaskType, JsonSchema } from './types.js';

/**
 * Output schemas of the AI tasks. A reply must match its schema exactly: unknown keys, values
 * outside the enums and over-long strings make it invalid, and an invalid reply is recorded as
 * unavailable rather than repaired.
 */

export const ADVICE_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const ADVICE_RISK_LEVELS = ['low', 'medium', 'high'] as const;

export const SUMMARY_MAX_LENGTH = 600;
export const DRAFT_MAX_LENGTH = 1500;
export const SUBJECT_MAX_LENGTH = 150;
export const LIST_ITEM_MAX_LENGTH = 200;
export const LIST_MAX_ITEMS = 5;

// Advice is shown to people and may be pasted into a message, so a link or markup in it could
// carry an injected phishing target. Placeholders such as {{customer_name}} stay allowed.
const LINK_OR_MARKUP = /(https?:\/\/|www\.|<\/?[a-z][^>]*>|\]\()/i;

function adviceText(maxLength: number, description: string) {
  return z
    .string()
    .min(1)
    .max(maxLength)
    .refine((value) => !LINK_OR_MARKUP.test(value), { error: 'must not contain links or markup' })
    .meta({ description: `${description} Plain text, at most ${maxLength} characters, no links.` });
}

function adviceList(description: string) {
  return z
    .array(adviceText(LIST_ITEM_MAX_LENGTH, 'One item.'))
    .max(LIST_MAX_ITEMS)
    .meta({ description: `${description} At most ${LIST_MAX_ITEMS} items.` });
}

const priority = z.enum(ADVICE_PRIORITIES).meta({ description: 'Suggested review priority.' });
const riskLevel = z.enum(ADVICE_RISK_LEVELS).meta({ description: 'Assessed risk for the merchant.' });
const summary = adviceText(SUMMARY_MAX_LENGTH, 'Short summary of the case for a reviewer.');

export const adviceSchemas = {
  dispute_summary: z.strictObject({
    summary,
    priority,
    riskLevel,
    recommendedActions: adviceList('Next steps a reviewer could take, such as evidence to gather.'),
  }),
  fraud_risk_assessment: z.strictObject({
    summary,
    priority,
    riskLevel,
    signals: adviceList('Signals in the data that support the assessment.'),
  }),
  manual_review_triage: z.strictObject({
    summary,
    priority,
    riskLevel,
    checklist: adviceList('What the reviewer should check first.'),
  }),
  failed_payment_outreach_draft: z.strictObject({
    summary,
    priority,
    subject: adviceText(SUBJECT_MAX_LENGTH, 'Subject line of the drafted message.'),
    draft: adviceText(
      DRAFT_MAX_LENGTH,
      'Drafted message to the customer, for a person to review; uses {{customer_name}} and {{update_payment_link}} placeholders.',
    ),
  }),
} as const satisfies Record<AiTaskType, z.ZodType>;

export type AdviceFor<T extends AiTaskType> = z.infer<(typeof adviceSchemas)[T]>;
export type Advice = AdviceFor<AiTaskType>;

export type AdviceParseResult = { readonly ok: true; readonly advice: Advice } | { readonly ok: false; readonly reason: string };

/** Parses a model's raw text output and checks it against the task's schema, without repairing it. */
export function parseAdvice(task: AiTaskType, text: string): AdviceParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the reply is not valid JSON' };
  }
  const result = adviceSchemas[task].safeParse(value);
  if (result.success) return { ok: true, advice: result.data };
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    const field = issue.path.length === 0 ? 'reply' : issue.path.join('.');
    return `${field}: ${issue.message}`;
  });
  return { ok: false, reason: `the reply does not match the ${task} schema (${problems.join('; ')})` };
}

// Keywords that Gemini's responseJsonSchema, OpenAI's strict json_schema and Manus all accept.
// Length limits are left out on purpose and enforced by the zod schema above.
const PORTABLE_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'enum', 'items', 'description']);

/** Returns the JSON Schema of a task's output, reduced to keywords every provider accepts. */
export function providerSchemaFor(task: AiTaskType): JsonSchema {
  const full = z.toJSONSchema(adviceSchemas[task], { target: 'draft-7', io: 'output' });
  return stripToPortable(full) as JsonSchema;
}

function stripToPortable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripToPortable);
  if (typeof node !== 'object' || node === null) return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!PORTABLE_KEYWORDS.has(key)) continue;
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      const properties = Object.entries(value as Record<string, unknown>);
      result[key] = Object.fromEntries(properties.map(([name, child]) => [name, stripToPortable(child)]));
    } else {
      result[key] = stripToPortable(value);
    }
  }
  return result;
}
