import { z } from 'zod';
import type { SnapshotEvent, StripeEvent } from '../domain/stripe-event.js';
import { NonRetryableError } from '../errors.js';

/**
 * Zod schemas for the fields of `event.data.object` that the ledger reads, per Stripe object
 * type (API version 2026-07-29.dahlia). Fields the ledger needs to make sense of the event are
 * required. A missing or malformed one raises NonRetryableError, so the event is dead-lettered at
 * once. Fields that Stripe may omit or null become `null`.
 */

const stripeId = z.string().min(1).max(255);

/** An id field that webhooks send as a string but the API may expand to an object. */
const expandableId = z.union([stripeId, z.object({ id: stripeId })]).transform((value) => (typeof value === 'string' ? value : value.id));
const optionalId = expandableId.nullish().transform((value) => value ?? null);
const optionalString = z.string().nullish().transform((value) => value ?? null);
const integer = z.number().int();
const optionalInteger = integer.nullish().transform((value) => value ?? null);
const metadata = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((value) => value ?? {});

export const checkoutSessionSchema = z.object({
  object: z.literal('checkout.session'),
  id: stripeId,
  payment_intent: optionalId,
  payment_status: optionalString,
  amount_total: optionalInteger,
  currency: optionalString,
  client_reference_id: optionalString,
  customer: optionalId,
  metadata,
});

export const paymentIntentSchema = z.object({
  object: z.literal('payment_intent'),
  id: stripeId,
  amount: integer,
  amount_received: optionalInteger,
  currency: z.string().min(1),
  status: z.string().min(1),
  latest_charge: optionalId,
  customer: optionalId,
  application_fee_amount: optionalInteger,
  metadata,
  last_payment_error: z
    .object({ code: optionalString, decline_code: optionalString })
    .nullish()
    .transform((value) => value ?? null),
});

export const chargeSchema = z.object({
  object: z.literal('charge'),
  id: stripeId,
  amount: integer,
  amount_captured: optionalInteger,
  amount_refunded: optionalInteger,
  currency: z.string().min(1),
  payment_intent: optionalId,
  customer: optionalId,
  application_fee_amount: optionalInteger,
  failure_code: optionalString,
  metadata,
});

export const refundSchema = z.object({
  object: z.literal('refund'),
  id: stripeId,
  amount: integer,
  currency: z.string().min(1),
  status: z.string().min(1),
  reason: optionalString,
  failure_reason: optionalString,
  charge: optionalId,
  payment_intent: optionalId,
  created: integer,
  metadata,
});

export const invoiceSchema = z.object({
  object: z.literal('invoice'),
  id: stripeId,
  status: z.string().min(1),
  number: optionalString,
  customer: optionalId,
  currency: z.string().min(1),
  amount_due: integer,
  amount_paid: integer,
  attempt_count: integer,
  next_payment_attempt: optionalInteger,
  billing_reason: optionalString,
  created: integer,
  parent: z
    .object({ subscription_details: z.object({ subscription: optionalId }).nullish() })
    .nullish()
    .transform((value) => value ?? null),
  /** Before API version 2025-03-31.basil the subscription id sat here. */
  subscription: optionalId,
});

export const subscriptionSchema = z.object({
  object: z.literal('subscription'),
  id: stripeId,
  customer: expandableId,
  status: z.string().min(1),
  items: z.object({
    data: z.array(
      z.object({
        current_period_start: optionalInteger,
        current_period_end: optionalInteger,
        price: z.object({ id: stripeId }).nullish(),
      }),
    ),
  }),
  default_payment_method: optionalId,
  default_source: optionalId,
  latest_invoice: optionalId,
  trial_end: optionalInteger,
  cancel_at_period_end: z.boolean().nullish(),
  canceled_at: optionalInteger,
  ended_at: optionalInteger,
  cancellation_details: z.object({ reason: optionalString }).nullish(),
  /** Before API version 2025-03-31.basil the period sat on the subscription itself. */
  current_period_start: optionalInteger,
  current_period_end: optionalInteger,
});

export const customerSchema = z.object({
  object: z.literal('customer'),
  id: stripeId,
  email: optionalString,
});

export const disputeSchema = z.object({
  object: z.literal('dispute'),
  id: stripeId,
  amount: integer,
  currency: z.string().min(1),
  status: z.string().min(1),
  reason: optionalString,
  charge: optionalId,
  payment_intent: optionalId,
  evidence_details: z.object({ due_by: optionalInteger }).nullish(),
  balance_transactions: z
    .array(z.object({ amount: integer, fee: integer }))
    .nullish()
    .transform((value) => value ?? []),
});

export const earlyFraudWarningSchema = z.object({
  object: z.literal('radar.early_fraud_warning'),
  id: stripeId,
  fraud_type: z.string().min(1),
  actionable: z.boolean(),
  charge: optionalId,
  payment_intent: optionalId,
});

export const radarReviewSchema = z.object({
  object: z.literal('review'),
  id: stripeId,
  open: z.boolean(),
  reason: z.string().min(1),
  opened_reason: optionalString,
  closed_reason: optionalString,
  charge: optionalId,
  payment_intent: optionalId,
});

export type CheckoutSession = z.output<typeof checkoutSessionSchema>;
export type PaymentIntent = z.output<typeof paymentIntentSchema>;
export type Charge = z.output<typeof chargeSchema>;
export type Refund = z.output<typeof refundSchema>;
export type Invoice = z.output<typeof invoiceSchema>;
export type Subscription = z.output<typeof subscriptionSchema>;
export type Customer = z.output<typeof customerSchema>;
export type Dispute = z.output<typeof disputeSchema>;
export type EarlyFraudWarning = z.output<typeof earlyFraudWarningSchema>;
export type RadarReview = z.output<typeof radarReviewSchema>;

/** Parses `event.data.object`, or raises NonRetryableError naming the first bad field. */
export function parseStripeObject<Schema extends z.ZodType>(event: SnapshotEvent, schema: Schema): z.output<Schema> {
  const result = schema.safeParse(event.data.object);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? 'data.object' : `data.object.${issue.path.join('.')}`;
  throw new NonRetryableError(`Event ${event.id} (${event.type}): field "${field}" is missing or invalid, so the ledger cannot apply it.`, {
    context: { eventId: event.id, eventType: event.type, field },
  });
}

/** Returns the `object` field of the event's object (`charge`, `invoice`…), or null for thin events. */
export function stripeObjectType(event: StripeEvent): string | null {
  if (event.object !== 'event') return null;
  const type = event.data.object['object'];
  return typeof type === 'string' ? type : null;
}

/** Returns the `id` field of the event's object, or null when it is absent or not a string. */
export function stripeObjectId(event: StripeEvent): string | null {
  if (event.object !== 'event') return null;
  const id = event.data.object['id'];
  return typeof id === 'string' && id !== '' ? id : null;
}

/** Returns a metadata value when it is a non-empty string, else null. */
export function metadataString(values: Record<string, unknown>, key: string): string | null {
  const value = values[key];
  return typeof value === 'string' && value !== '' ? value : null;
}
