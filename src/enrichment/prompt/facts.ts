import { FACT_PATHS, ID_PATHS, UNTRUSTED_MAP_PATHS, UNTRUSTED_TEXT_PATHS } from './allow-list.js';
import type { ReferenceMap } from './references.js';
import { personalValuesOf, scrubUntrustedText } from './scrub.js';

/** Maximum length of one untrusted text, after masking. */
export const UNTRUSTED_TEXT_MAX_LENGTH = 300;
/** Maximum number of metadata entries taken from one object. */
export const UNTRUSTED_MAP_MAX_ENTRIES = 10;
const METADATA_KEY_MAX_LENGTH = 40;
/** Cap on all untrusted text of one prompt together; entries past it are dropped. */
export const UNTRUSTED_TOTAL_MAX_LENGTH = 2000;

// Fields in Unix seconds; the prompt shows them as ISO dates, which models read more reliably.
const TIMESTAMP_PATHS = new Set([
  'created',
  'evidence_details.due_by',
  'next_payment_attempt',
  'period_start',
  'period_end',
  'trial_end',
]);

type Scalar = string | number | boolean | null;
type FactValue = Scalar | readonly Scalar[];

export interface UntrustedText {
  /** Source field of the text, such as `description` or `metadata.note`. */
  readonly field: string;
  readonly text: string;
}

export interface ExtractedFacts {
  readonly facts: Readonly<Record<string, FactValue>>;
  readonly untrusted: readonly UntrustedText[];
}

/**
 * Reads the allow-listed fields of one Stripe object. Ids become references, timestamps become
 * ISO dates, and customer-controlled text is returned separately, masked and capped, for the
 * untrusted-data block. Fields that are not on the allow-list never reach the result. Personal
 * data fields are read only to mask their values where free text repeats them.
 */
export function extractFacts(object: Readonly<Record<string, unknown>>, references: ReferenceMap): ExtractedFacts {
  const facts: Record<string, FactValue> = {};

  for (const path of ID_PATHS) {
    const value = valueAt(object, path);
    if (typeof value === 'string' && value !== '') facts[path] = references.referenceFor(value);
  }

  for (const path of FACT_PATHS) {
    const value = factValue(valueAt(object, path));
    if (value === undefined) continue;
    facts[path] = TIMESTAMP_PATHS.has(path) && typeof value === 'number' ? isoFromUnixSeconds(value) : maskIds(value, references);
  }

  return { facts, untrusted: collectUntrusted(object, references) };
}

function collectUntrusted(object: Readonly<Record<string, unknown>>, references: ReferenceMap): UntrustedText[] {
  const personalValues = personalValuesOf(object);
  const entries: UntrustedText[] = [];

  for (const path of UNTRUSTED_TEXT_PATHS) {
    const value = valueAt(object, path);
    if (typeof value === 'string' && value.trim() !== '') entries.push({ field: path, text: value });
  }
  for (const path of UNTRUSTED_MAP_PATHS) {
    const map = valueAt(object, path);
    if (typeof map !== 'object' || map === null || Array.isArray(map)) continue;
    for (const [key, value] of Object.entries(map).slice(0, UNTRUSTED_MAP_MAX_ENTRIES)) {
      if (typeof value !== 'string' || value.trim() === '') continue;
      const safeKey = scrubUntrustedText(key, references, METADATA_KEY_MAX_LENGTH, personalValues);
      entries.push({ field: `${path}.${safeKey}`, text: value });
    }
  }

  const result: UntrustedText[] = [];
  let total = 0;
  for (const entry of entries) {
    const text = scrubUntrustedText(entry.text, references, UNTRUSTED_TEXT_MAX_LENGTH, personalValues);
    if (text === '') continue;
    if (total + text.length > UNTRUSTED_TOTAL_MAX_LENGTH) break;
    total += text.length;
    result.push({ field: entry.field, text });
  }
  return result;
}

function valueAt(object: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = object;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function factValue(value: unknown): FactValue | undefined {
  if (isScalar(value)) return value;
  if (Array.isArray(value) && value.every(isScalar)) return value;
  return undefined;
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

// Stripe-written strings (failure messages, codes) can still mention an object id.
function maskIds(value: FactValue, references: ReferenceMap): FactValue {
  if (typeof value === 'string') return references.replaceIdsIn(value);
  if (Array.isArray(value)) return value.map((item: Scalar) => (typeof item === 'string' ? references.replaceIdsIn(item) : item));
  return value;
}

function isoFromUnixSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
