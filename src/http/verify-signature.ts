import Stripe from 'stripe';
import { WebhookRejectedError } from '../errors.js';
import type { Clock } from '../store/ports.js';

/** Scheme of the signatures checked; stripe-node also ignores every other scheme in the header. */
const SIGNATURE_SCHEME = 'v1';

export interface SignatureVerificationOptions {
  /** Endpoint secrets (`whsec_…`); a request verifies if any one of them produced a `v1` signature. */
  readonly secrets: readonly string[];
  /** Maximum distance, in seconds, between the header's timestamp and now, in either direction. */
  readonly toleranceSeconds: number;
  readonly clock: Clock;
}

export interface VerifiedSignature {
  /** The header's `t=` value, in Unix seconds. */
  readonly timestampSeconds: number;
  /** Position in `secrets` of the endpoint secret that matched, so operators can tell when an old secret is retired. */
  readonly secretIndex: number;
}

interface ParsedHeader {
  readonly timestampSeconds: number;
}

/**
 * Verifies the `Stripe-Signature` header of a webhook request against the raw body.
 *
 * The checks run as a ladder, so each failure has its own code. A secret must be configured and
 * the header present. The header must parse (`t=…` and at least one `v1=…`), and its timestamp
 * must be within the tolerance in both directions. Last, the HMAC must match one of the secrets;
 * stripe-node computes it and compares it in constant time. Throws WebhookRejectedError, whose
 * messages never repeat the header or a secret.
 */
export function verifyStripeSignature(
  payload: string,
  header: string | null | undefined,
  options: SignatureVerificationOptions,
): VerifiedSignature {
  if (options.secrets.length === 0) {
    throw new WebhookRejectedError(
      'no_secret_configured',
      'No endpoint secret is configured, so no webhook can be verified. Set STRIPE_WEBHOOK_SECRET to the endpoint secret (whsec_…).',
    );
  }
  if (header === null || header === undefined || header.trim() === '') {
    throw new WebhookRejectedError(
      'signature_missing',
      'The Stripe-Signature header is missing. Send the request from Stripe, or sign it with the endpoint secret.',
    );
  }

  const parsed = parseSignatureHeader(header);
  if (parsed === null) {
    throw new WebhookRejectedError(
      'signature_malformed',
      'The Stripe-Signature header is malformed: it should contain one t=<Unix seconds> and at least one v1=<signature>.',
    );
  }

  const nowMs = options.clock();
  const ageSeconds = Math.floor(nowMs / 1000) - parsed.timestampSeconds;
  if (ageSeconds > options.toleranceSeconds) {
    throw new WebhookRejectedError(
      'signature_expired',
      `The Stripe-Signature timestamp is more than ${options.toleranceSeconds} seconds old. Stripe signs every retry anew; if this repeats, check the server clock.`,
    );
  }
  // stripe-node only rejects old timestamps; a future one beyond the tolerance is just as suspect.
  if (-ageSeconds > options.toleranceSeconds) {
    throw new WebhookRejectedError(
      'signature_expired',
      `The Stripe-Signature timestamp is more than ${options.toleranceSeconds} seconds in the future; check the server clock.`,
    );
  }

  const secretIndex = options.secrets.findIndex((secret) => hmacMatches(payload, header, secret, options.toleranceSeconds, nowMs));
  if (secretIndex === -1) {
    throw new WebhookRejectedError(
      'signature_mismatch',
      'No signature in the Stripe-Signature header matches the body. Pass the raw request body unchanged, and check the endpoint secret.',
    );
  }
  return { timestampSeconds: parsed.timestampSeconds, secretIndex };
}

/**
 * Reads `t=` and counts `v1=` entries the way stripe-node splits the header (comma-separated
 * `key=value` pairs, no spaces), so a header this accepts is one stripe-node can check.
 * Returns null when the timestamp is missing, repeated or not a whole number, or no `v1` value is present.
 */
function parseSignatureHeader(header: string): ParsedHeader | null {
  let timestampSeconds: number | null = null;
  let signatureCount = 0;

  for (const item of header.split(',')) {
    const separator = item.indexOf('=');
    if (separator === -1) continue;
    const key = item.slice(0, separator);
    const value = item.slice(separator + 1);

    if (key === 't') {
      if (timestampSeconds !== null || !/^\d{1,12}$/.test(value)) return null;
      timestampSeconds = Number(value);
    } else if (key === SIGNATURE_SCHEME && value !== '') {
      signatureCount += 1;
    }
  }

  if (timestampSeconds === null || signatureCount === 0) return null;
  return { timestampSeconds };
}

function hmacMatches(payload: string, header: string, secret: string, toleranceSeconds: number, nowMs: number): boolean {
  const signature = Stripe.webhooks.signature;
  if (signature === null) {
    throw new Error('stripe-node was loaded without its webhook signature helper; check the installed stripe package.');
  }
  try {
    return signature.verifyHeader(payload, header, secret, toleranceSeconds, undefined, nowMs);
  } catch (error) {
    // stripe-node signals every verification failure with this class; anything else is a bug.
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) return false;
    throw error;
  }
}
