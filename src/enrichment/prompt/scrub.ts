import type { ReferenceMap } from './references.js';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
// At least three groups of hex digits separated by colons; also matches `::1`-style forms.
const IPV6 = /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b|::(?:[0-9a-f]{1,4}:?){1,7}/gi;
// Runs of 7 or more digits, optionally separated by spaces, dots, dashes or brackets: phone
// numbers, card and bank numbers. Amounts written as text (`$50.00`) stay because they are too short.
const LONG_NUMBER = /\+?\(?\d(?:[\s().-]{0,2}\d){6,}/g;

// Keys whose values are personal data wherever they appear in a Stripe object.
const PERSONAL_KEYS = new Set([
  'name',
  'customer_name',
  'email',
  'customer_email',
  'customer_email_address',
  'receipt_email',
  'phone',
  'customer_phone',
  'line1',
  'line2',
  'city',
  'postal_code',
  'billing_address',
  'shipping_address',
  'customer_purchase_ip',
  'ip_address',
  'last4',
  'fingerprint',
]);

// Parts shorter than this (state codes, initials) would mask ordinary words.
const MIN_PERSONAL_PART_LENGTH = 4;

/**
 * Collects the personal values held anywhere in a Stripe object (billing and shipping details,
 * dispute evidence, card details), each whole and split into words, longest first. Free text in
 * the same object often repeats them, and these exact values can be masked reliably.
 */
export function personalValuesOf(object: unknown): string[] {
  const values = new Set<string>();
  const visit = (node: unknown, depth: number): void => {
    if (depth > 8 || typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' && PERSONAL_KEYS.has(key)) {
        for (const part of [value, ...value.split(/[\s,]+/)]) {
          if (part.trim().length >= MIN_PERSONAL_PART_LENGTH) values.add(part.trim());
        }
      } else if (typeof value === 'object') {
        visit(value, depth + 1);
      }
    }
  };
  visit(object, 0);
  return [...values].sort((a, b) => b.length - a.length);
}

function maskValues(text: string, values: readonly string[]): string {
  let masked = text;
  for (const value of values) {
    masked = masked.replace(new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[personal data]');
  }
  return masked;
}

// Text that could imitate the fence around untrusted data, or open a new one.
const FENCE_LOOKALIKE = /<{2,}|>{2,}|UNTRUSTED[\s_-]*DATA/gi;

/**
 * Cleans one customer-controlled text before it goes into the untrusted-data block. Stripe ids
 * become references. The object's own personal values (see `personalValuesOf`), e-mail
 * addresses, IP addresses and long digit runs (phone, card and bank numbers) are masked. Control
 * characters and fence look-alikes are removed, and the result is cut to `maxLength` characters.
 *
 * NOTE: a name or postal address that appears only in free text, and in no personal-data field of
 * the object, cannot be recognised reliably and passes through. It still stays inside the fence.
 */
export function scrubUntrustedText(text: string, references: ReferenceMap, maxLength: number, personalValues: readonly string[] = []): string {
  const cleaned = maskValues(references.replaceIdsIn(text), personalValues)
    .replace(EMAIL, '[email]')
    .replace(IPV6, '[ip]')
    .replace(IPV4, '[ip]')
    .replace(LONG_NUMBER, '[number]')
    .replace(FENCE_LOOKALIKE, ' ')
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .trim();
  return cleaned.length <= maxLength ? cleaned : `${cleaned.slice(0, maxLength - 1)}…`;
}
