/**
 * The only fields of a Stripe object that may reach an AI provider. Anything not listed here is
 * dropped, so names, e-mail addresses, phone numbers, postal addresses, card last4, expiry and
 * fingerprint, IP addresses, Radar session data and evidence documents are never sent.
 *
 * Paths are dotted keys into the event's `data.object`. A value is kept only when it is a string,
 * number, boolean or null, or an array of those.
 */
export const FACT_PATHS: readonly string[] = [
  'object',
  'status',
  'created',
  'livemode',
  'currency',
  // Amounts, in the currency's smallest unit.
  'amount',
  'amount_captured',
  'amount_refunded',
  'amount_received',
  'amount_capturable',
  'amount_due',
  'amount_paid',
  'amount_remaining',
  'amount_total',
  'amount_subtotal',
  'subtotal',
  'total',
  // Payment state and failure.
  'paid',
  'captured',
  'refunded',
  'disputed',
  'failure_code',
  'failure_message',
  'capture_method',
  'cancellation_reason',
  'payment_method_types',
  'payment_status',
  'mode',
  'last_payment_error.type',
  'last_payment_error.code',
  'last_payment_error.decline_code',
  'last_payment_error.payment_method.type',
  'last_payment_error.payment_method.card.brand',
  'last_payment_error.payment_method.card.country',
  'last_payment_error.payment_method.card.funding',
  // Radar outcome.
  'outcome.type',
  'outcome.reason',
  'outcome.risk_level',
  'outcome.risk_score',
  'outcome.network_status',
  'outcome.network_decline_code',
  // Card details without identifiers.
  'payment_method_details.type',
  'payment_method_details.card.brand',
  'payment_method_details.card.country',
  'payment_method_details.card.funding',
  'payment_method_details.card.network',
  'payment_method_details.card.case_type',
  'payment_method_details.card.network_reason_code',
  'payment_method_details.card.checks.cvc_check',
  'payment_method_details.card.checks.address_line1_check',
  'payment_method_details.card.checks.address_postal_code_check',
  'payment_method_details.card.three_d_secure.result',
  // Disputes.
  'reason',
  'is_charge_refundable',
  'evidence_details.due_by',
  'evidence_details.has_evidence',
  'evidence_details.past_due',
  'evidence_details.submission_count',
  // Early fraud warnings and Radar reviews.
  'fraud_type',
  'actionable',
  'open',
  'opened_reason',
  'closed_reason',
  // Invoices and subscriptions.
  'attempt_count',
  'attempted',
  'billing_reason',
  'collection_method',
  'next_payment_attempt',
  'period_start',
  'period_end',
  'cancel_at_period_end',
  'trial_end',
];

/** Fields that hold Stripe ids; their values are replaced by opaque references. */
export const ID_PATHS: readonly string[] = [
  'id',
  'charge',
  'payment_intent',
  'latest_charge',
  'customer',
  'invoice',
  'subscription',
  'review',
  'dispute',
];

/** Customer-controlled free text: capped, masked and placed only inside the untrusted-data block. */
export const UNTRUSTED_TEXT_PATHS: readonly string[] = [
  'description',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'evidence.product_description',
  'evidence.uncategorized_text',
  'evidence.cancellation_rebuttal',
  'evidence.refund_refusal_explanation',
  'evidence.duplicate_charge_explanation',
];

/** Objects whose every entry is customer-controlled text (keys and values). */
export const UNTRUSTED_MAP_PATHS: readonly string[] = ['metadata'];
