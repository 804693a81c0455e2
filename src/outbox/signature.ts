import { createHmac, timingSafeEqual } from 'node:crypto';
import { PipelineError } from '../errors.js';

/**
 * The signature the relay puts on every outbox request, in the style of Stripe's webhook signature:
 * `X-Pipeline-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
 * OUTBOX_SIGNING_SECRET (its UTF-8 bytes). A receiver checks it with `verifyOutboxSignature`.
 */
export const OUTBOX_SIGNATURE_HEADER = 'X-Pipeline-Signature';

/** Maximum age (and clock skew) of a signature timestamp that `verifyOutboxSignature` accepts by default. */
export const DEFAULT_OUTBOX_TOLERANCE_SECONDS = 300;

const SIGNATURE_SCHEME = 'v1';
/** A SHA-256 digest in hex. */
const HEX_DIGEST = /^[0-9a-f]{64}$/;

export type OutboxSignatureProblem = 'signature_missing' | 'signature_malformed' | 'signature_mismatch' | 'signature_expired';

/** Raised by `verifyOutboxSignature` when a request must be rejected; `code` names the failed check. */
export class OutboxSignatureError extends PipelineError {
  override readonly code: OutboxSignatureProblem;

  constructor(code: OutboxSignatureProblem, message: string) {
    super(code, message);
    this.code = code;
  }
}

/** Returns the hex HMAC-SHA256 of `<timestampSeconds>.<body>` keyed with `secret`. */
export function computeOutboxSignature(body: string | Uint8Array, secret: string, timestampSeconds: number): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`, 'utf8').update(body).digest('hex');
}

/** Builds the `X-Pipeline-Signature` value for `body`, signed at `timestampSeconds`. */
export function signOutboxBody(body: string | Uint8Array, secret: string, timestampSeconds: number): string {
  requireSecrets(secret);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds should be a whole number of Unix seconds, got ${timestampSeconds}`);
  }
  return `t=${timestampSeconds},${SIGNATURE_SCHEME}=${computeOutboxSignature(body, secret, timestampSeconds)}`;
}

/**
 * Verifies an outbox request: `body` is the raw request body exactly as received (before any JSON
 * parsing), `header` the `X-Pipeline-Signature` value. `secret` may list several secrets while
 * one is rotated; any match is enough. Returns the signed timestamp in Unix seconds.
 *
 * The checks run in order: the header is present, it parses (one `t=` and at least one `v1=`), a
 * `v1` matches in constant time, and the timestamp is within `toleranceSeconds` of `now` in either
 * direction. Throws OutboxSignatureError, whose message never repeats the header or a secret.
 */
export function verifyOutboxSignature(
  body: string | Uint8Array,
  header: string | null | undefined,
  secret: string | readonly string[],
  toleranceSeconds: number = DEFAULT_OUTBOX_TOLERANCE_SECONDS,
  now: Date = new Date(),
): number {
  const secrets = requireSecrets(secret);
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new RangeError(`toleranceSeconds should be a number of seconds of at least 0, got ${toleranceSeconds}`);
  }

  if (header === null || header === undefined || header.trim() === '') {
    throw new OutboxSignatureError('signature_missing', `The ${OUTBOX_SIGNATURE_HEADER} header is missing; only the pipeline's outbox relay sends signed requests.`);
  }

  const parsed = parseSignatureHeader(header);
  if (parsed === null) {
    throw new OutboxSignatureError(
      'signature_malformed',
      `The ${OUTBOX_SIGNATURE_HEADER} header is malformed: it should contain one t=<Unix seconds> and at least one v1=<hex signature>.`,
    );
  }

  const matched = secrets.some((candidate) => {
    const expected = Buffer.from(computeOutboxSignature(body, candidate, parsed.timestampSeconds), 'hex');
    return parsed.signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
  });
  if (!matched) {
    throw new OutboxSignatureError(
      'signature_mismatch',
      'No signature matches the body. Verify the raw request body before parsing it, and check that the secret equals OUTBOX_SIGNING_SECRET.',
    );
  }

  const ageSeconds = Math.floor(now.getTime() / 1000) - parsed.timestampSeconds;
  if (Math.abs(ageSeconds) > toleranceSeconds) {
    throw new OutboxSignatureError(
      'signature_expired',
      `The signature timestamp is more than ${toleranceSeconds} seconds ${ageSeconds > 0 ? 'old' : 'in the future'}; the relay signs every attempt anew, so check the clocks if this repeats.`,
    );
  }
  return parsed.timestampSeconds;
}

interface ParsedHeader {
  readonly timestampSeconds: number;
  /** The `v1` values that are well-formed hex digests; other values can never match. */
  readonly signatures: readonly string[];
}

/** Returns null when `t` is missing, repeated or not a whole number, or no `v1` entry is present. */
function parseSignatureHeader(header: string): ParsedHeader | null {
  let timestampSeconds: number | null = null;
  let entries = 0;
  const signatures: string[] = [];

  for (const item of header.split(',')) {
    const separator = item.indexOf('=');
    if (separator === -1) continue;
    const key = item.slice(0, separator).trim();
    const value = item.slice(separator + 1).trim();

    if (key === 't') {
      if (timestampSeconds !== null || !/^\d{1,12}$/.test(value)) return null;
      timestampSeconds = Number(value);
    } else if (key === SIGNATURE_SCHEME && value !== '') {
      entries += 1;
      if (HEX_DIGEST.test(value)) signatures.push(value);
    }
  }

  if (timestampSeconds === null || entries === 0) return null;
  return { timestampSeconds, signatures };
}

function requireSecrets(secret: string | readonly string[]): readonly string[] {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0 || secrets.some((candidate) => typeof candidate !== 'string' || candidate === '')) {
    throw new RangeError('secret should be a non-empty string, or a list of them (the value of OUTBOX_SIGNING_SECRET)');
  }
  return secrets;
}
