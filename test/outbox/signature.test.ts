import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeOutboxSignature, OutboxSignatureError, signOutboxBody, verifyOutboxSignature } from '../../src/outbox/signature.js';

const SECRET = 'a'.repeat(32) + 'signing-secret-for-tests';
const OTHER_SECRET = 'b'.repeat(32) + 'another-secret';
const BODY = '{"id":"0001","topic":"order.paid","account":"","payload":{"amount_paid":2500}}';
const NOW = new Date(Date.UTC(2026, 7, 1, 12, 0, 0));
const NOW_SECONDS = NOW.getTime() / 1000;

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof OutboxSignatureError) return error.code;
    throw error;
  }
  return 'verified';
}

describe('signOutboxBody', () => {
  it('signs "t.body" with HMAC-SHA256 in hex', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_SECONDS}.${BODY}`).digest('hex');
    expect(signOutboxBody(BODY, SECRET, NOW_SECONDS)).toBe(`t=${NOW_SECONDS},v1=${expected}`);
  });

  it('signs bytes and text alike', () => {
    expect(computeOutboxSignature(Buffer.from(BODY, 'utf8'), SECRET, NOW_SECONDS)).toBe(computeOutboxSignature(BODY, SECRET, NOW_SECONDS));
  });

  it('rejects an empty secret', () => {
    expect(() => signOutboxBody(BODY, '', NOW_SECONDS)).toThrow(RangeError);
  });
});

describe('verifyOutboxSignature', () => {
  const header = signOutboxBody(BODY, SECRET, NOW_SECONDS);

  it('returns the timestamp of a valid signature', () => {
    expect(verifyOutboxSignature(BODY, header, SECRET, 300, NOW)).toBe(NOW_SECONDS);
  });

  it('accepts the raw body as bytes', () => {
    expect(verifyOutboxSignature(Buffer.from(BODY, 'utf8'), header, SECRET, 300, NOW)).toBe(NOW_SECONDS);
  });

  it('accepts any secret of a rotation list', () => {
    expect(verifyOutboxSignature(BODY, header, [OTHER_SECRET, SECRET], 300, NOW)).toBe(NOW_SECONDS);
  });

  it('accepts a header with one matching v1 among several', () => {
    const wrong = computeOutboxSignature(BODY, OTHER_SECRET, NOW_SECONDS);
    expect(verifyOutboxSignature(BODY, `${header},v1=${wrong}`, SECRET, 300, NOW)).toBe(NOW_SECONDS);
    expect(verifyOutboxSignature(BODY, `t=${NOW_SECONDS},v1=${wrong},${header.split(',')[1]}`, SECRET, 300, NOW)).toBe(NOW_SECONDS);
  });

  it.each([
    ['missing header', undefined, 'signature_missing'],
    ['empty header', '  ', 'signature_missing'],
    ['no timestamp', `v1=${'0'.repeat(64)}`, 'signature_malformed'],
    ['no v1', `t=${NOW_SECONDS}`, 'signature_malformed'],
    ['two timestamps', `t=${NOW_SECONDS},t=${NOW_SECONDS},v1=${'0'.repeat(64)}`, 'signature_malformed'],
    ['non-numeric timestamp', `t=soon,v1=${'0'.repeat(64)}`, 'signature_malformed'],
    ['v1 that is not hex', `t=${NOW_SECONDS},v1=not-a-digest`, 'signature_mismatch'],
  ])('rejects a %s', (_case, badHeader, code) => {
    expect(problemOf(() => verifyOutboxSignature(BODY, badHeader, SECRET, 300, NOW))).toBe(code);
  });

  it('rejects a changed body', () => {
    expect(problemOf(() => verifyOutboxSignature(BODY.replace('2500', '25000'), header, SECRET, 300, NOW))).toBe('signature_mismatch');
  });

  it('rejects another secret', () => {
    expect(problemOf(() => verifyOutboxSignature(BODY, header, OTHER_SECRET, 300, NOW))).toBe('signature_mismatch');
  });

  it('rejects a timestamp changed after signing', () => {
    const forged = header.replace(`t=${NOW_SECONDS}`, `t=${NOW_SECONDS + 1}`);
    expect(problemOf(() => verifyOutboxSignature(BODY, forged, SECRET, 300, NOW))).toBe('signature_mismatch');
  });

  it('accepts a timestamp at the tolerance in both directions', () => {
    expect(verifyOutboxSignature(BODY, signOutboxBody(BODY, SECRET, NOW_SECONDS - 300), SECRET, 300, NOW)).toBe(NOW_SECONDS - 300);
    expect(verifyOutboxSignature(BODY, signOutboxBody(BODY, SECRET, NOW_SECONDS + 300), SECRET, 300, NOW)).toBe(NOW_SECONDS + 300);
  });

  it('rejects a timestamp beyond the tolerance in both directions', () => {
    expect(problemOf(() => verifyOutboxSignature(BODY, signOutboxBody(BODY, SECRET, NOW_SECONDS - 301), SECRET, 300, NOW))).toBe('signature_expired');
    expect(problemOf(() => verifyOutboxSignature(BODY, signOutboxBody(BODY, SECRET, NOW_SECONDS + 301), SECRET, 300, NOW))).toBe('signature_expired');
  });

  it('keeps the header and the secret out of its messages', () => {
    const messages = [OTHER_SECRET, SECRET].map((secret) => {
      try {
        verifyOutboxSignature(BODY.toUpperCase(), header, secret, 300, NOW);
        return '';
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    });
    for (const message of messages) {
      expect(message).not.toBe('');
      expect(message).not.toContain(header.split('v1=')[1]);
      expect(message).not.toContain(SECRET);
    }
  });

  it('rejects a missing secret as a programming error', () => {
    expect(() => verifyOutboxSignature(BODY, header, [], 300, NOW)).toThrow(RangeError);
  });
});
