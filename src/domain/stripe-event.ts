import { z } from 'zod';

/**
 * The fields of a Stripe event that the pipeline relies on. Snapshot events (`object: "event"`)
 * carry the affected object in `data.object`; thin v2 notifications (`object: "v2.core.event"`)
 * carry only `related_object` and are acknowledged and recorded without a business effect.
 */
const snapshotEventSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('event'),
  type: z.string().min(1).max(255),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  api_version: z.string().nullable().optional(),
  account: z.string().min(1).max(255).optional(),
  data: z.object({
    object: z.record(z.string(), z.unknown()),
    previous_attributes: z.record(z.string(), z.unknown()).optional(),
  }),
});

const thinEventSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('v2.core.event'),
  type: z.string().min(1).max(255),
  created: z.string().datetime({ offset: true }),
  livemode: z.boolean(),
  context: z.string().nullable().optional(),
  related_object: z.object({ id: z.string(), type: z.string() }).passthrough().nullable().optional(),
});

export type SnapshotEvent = z.infer<typeof snapshotEventSchema>;
export type ThinEvent = z.infer<typeof thinEventSchema>;
export type StripeEvent = SnapshotEvent | ThinEvent;

/** The envelope fields the event store keeps beside the raw payload. */
export interface EventEnvelope {
  readonly id: string;
  readonly type: string;
  /** Stripe's `created`, in Unix seconds. */
  readonly created: number;
  readonly livemode: boolean;
  /** Connected account (`acct_…`) for Connect events, otherwise null. */
  readonly account: string | null;
}

export type ParseEventResult = { ok: true; event: StripeEvent } | { ok: false; problem: string };

/** Checks that a parsed JSON value is a Stripe event, and names the first missing or wrong field. */
export function parseStripeEvent(value: unknown): ParseEventResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'the body is not a JSON object' };
  }
  const kind = (value as { object?: unknown }).object;
  const result = kind === 'v2.core.event' ? thinEventSchema.safeParse(value) : snapshotEventSchema.safeParse(value);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
  return { ok: false, problem: `field "${field}" is missing or invalid` };
}

export function envelopeOf(event: StripeEvent): EventEnvelope {
  if (event.object === 'v2.core.event') {
    return {
      id: event.id,
      type: event.type,
      created: Math.floor(Date.parse(event.created) / 1000),
      livemode: event.livemode,
      account: event.context ?? null,
    };
  }
  return { id: event.id, type: event.type, created: event.created, livemode: event.livemode, account: event.account ?? null };
}
