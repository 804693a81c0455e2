import { describe, expect, it } from 'vitest';
import { WebhookRejectedError } from '../../src/errors.js';
import { verifyStripeSignature, type SignatureVerificationOptions } from '../../src/http/verify-signature.js';
import { fixtureBody, NOW_MS, NOW_SECONDS, OLD_SECRET, SECRET, signatureHeader } from './support.js';

const TOLERANCE_SECONDS = 300;
const payload = fixtureBody('payment_intent.succeeded');

function options(overrides: Partial<SignatureVerificationOptions> = {}): SignatureVerificationOptions {
  return { secrets: [SECRET], toleranceSeconds: TOLERANCE_SECONDS, clock: () => NOW_MS, ...overrides };
}

/** Runs the verification and returns the rejection it raised, failing the test if it raised none. */
function rejectionOf(body: string, header: string | null | undefined, verifyOptions = options()): WebhookRejectedError {
  try {
    verifyStripeSignature(body, header, verifyOptions);
  } catch (error) {
    if (error instanceof WebhookRejectedError) return error;
    throw error;
  }
  throw new Error('expected the signature to be rejected, but it verified');
}

describe('verifyStripeSignature', () => {
  it('accepts a body signed with the endpoint secret', () => {
    const result = verifyStripeSignature(payload, signatureHeader(payload), options());

    expect(result).toEqual({ timestampSeconds: NOW_SECONDS, secretIndex: 0 });
  });

  it('rejects every request when no secret is configured', () => {
    const error = rejectionOf(payload, signatureHeader(payload), options({ secrets: [] }));

    expect(error.code).toBe('no_secret_configured');
    expect(error.status).toBe(400);
    expect(error.message).toContain('STRIPE_WEBHOOK_SECRET');
  });

  describe('when the header is missing or malformed', () => {
    it.each([
      ['absent', undefined],
      ['null', null],
      ['empty', ''],
      ['blank', '   '],
    ])('rejects a %s header as missing', (_case, header) => {
      expect(rejectionOf(payload, header).code).toBe('signature_missing');
    });

    const signature = signatureHeader(payload).split(',')[1] ?? '';
    it.each([
      ['no key-value pairs', 'garbage'],
      ['no timestamp', signature],
      ['a non-numeric timestamp', `t=soon,${signature}`],
      ['a negative timestamp', `t=-5,${signature}`],
      ['two timestamps', `t=${NOW_SECONDS},t=${NOW_SECONDS},${signature}`],
      ['no v1 signature', `t=${NOW_SECONDS}`],
      ['only a v0 signature', `t=${NOW_SECONDS},${signature.replace('v1=', 'v0=')}`],
      ['an empty v1 signature', `t=${NOW_SECONDS},v1=`],
    ])('rejects a header with %s as malformed', (_case, header) => {
      const error = rejectionOf(payload, header);

      expect(error.code).toBe('signature_malformed');
      expect(error.message).not.toContain(header);
    });
  });

  describe('when the timestamp is outside the tolerance', () => {
    it('rejects a signature older than the tolerance', () => {
      const header = signatureHeader(payload, { timestampSeconds: NOW_SECONDS - TOLERANCE_SECONDS - 1 });

      const error = rejectionOf(payload, header);

      expect(error.code).toBe('signature_expired');
      expect(error.message).toContain('old');
    });

    it('rejects a signature further in the future than the tolerance', () => {
      const header = signatureHeader(payload, { timestampSeconds: NOW_SECONDS + TOLERANCE_SECONDS + 1 });

      const error = rejectionOf(payload, header);

      expect(error.code).toBe('signature_expired');
      expect(error.message).toContain('future');
    });

    it('accepts timestamps exactly at the tolerance in both directions', () => {
      for (const timestampSeconds of [NOW_SECONDS - TOLERANCE_SECONDS, NOW_SECONDS + TOLERANCE_SECONDS]) {
        const header = signatureHeader(payload, { timestampSeconds });

        expect(verifyStripeSignature(payload, header, options()).timestampSeconds).toBe(timestampSeconds);
      }
    });

    it('reads the time from the injected clock', () => {
      const header = signatureHeader(payload, { timestampSeconds: NOW_SECONDS });
      const tenMinutesLater = () => NOW_MS + 600_000;

      expect(rejectionOf(payload, header, options({ clock: tenMinutesLater })).code).toBe('signature_expired');
    });
  });

  describe('when the signature does not match', () => {
    it('rejects a body signed with another secret', () => {
      const header = signatureHeader(payload, { secret: 'whsec_someone_else_0000000000000000' });

      const error = rejectionOf(payload, header);

      expect(error.code).toBe('signature_mismatch');
      expect(error.message).toContain('raw request body');
    });

    it('rejects a tampered body', () => {
      const tampered = payload.replace('"amount": 3000', '"amount": 1');
      expect(tampered).not.toBe(payload);

      expect(rejectionOf(tampered, signatureHeader(payload)).code).toBe('signature_mismatch');
    });

    it('rejects a re-serialised body under the original signature', () => {
      const reserialised = JSON.stringify(JSON.parse(payload));
      expect(reserialised).not.toBe(payload);

      expect(rejectionOf(reserialised, signatureHeader(payload)).code).toBe('signature_mismatch');
    });

    it('rejects a signature computed for another timestamp', () => {
      const signedEarlier = signatureHeader(payload, { timestampSeconds: NOW_SECONDS - 10 });
      const signature = signedEarlier.split(',')[1] ?? '';

      expect(rejectionOf(payload, `t=${NOW_SECONDS},${signature}`).code).toBe('signature_mismatch');
    });

    it('never repeats the header or a secret in its message', () => {
      const header = signatureHeader(payload, { secret: OLD_SECRET });

      const error = rejectionOf(payload, header);

      expect(error.message).not.toContain(header);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(OLD_SECRET);
      expect(error.message).not.toContain(header.split(',')[1]?.slice(3) ?? header);
    });
  });

  describe('when the endpoint secret is being rotated', () => {
    const rotating = options({ secrets: [OLD_SECRET, SECRET] });

    it('accepts a body signed with the old secret', () => {
      const header = signatureHeader(payload, { secret: OLD_SECRET });

      expect(verifyStripeSignature(payload, header, rotating).secretIndex).toBe(0);
    });

    it('accepts a body signed with the new secret', () => {
      const header = signatureHeader(payload, { secret: SECRET });

      expect(verifyStripeSignature(payload, header, rotating).secretIndex).toBe(1);
    });

    it('accepts a header carrying one v1 signature per secret', () => {
      const oldSignature = signatureHeader(payload, { secret: OLD_SECRET }).split(',')[1] ?? '';
      const header = `${signatureHeader(payload, { secret: SECRET })},${oldSignature}`;

      expect(verifyStripeSignature(payload, header, options({ secrets: [OLD_SECRET] })).secretIndex).toBe(0);
    });

    it('still rejects a secret that is in neither slot', () => {
      const header = signatureHeader(payload, { secret: 'whsec_retired_long_ago_000000000000' });

      expect(rejectionOf(payload, header, rotating).code).toBe('signature_mismatch');
    });
  });
});
