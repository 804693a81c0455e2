/** One difference between an expected journey state and the ledger. */
export interface Mismatch {
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/**
 * Compares `actual` with `expected` field by field. Every field named in `expected` must be
 * present with an equal value; extra fields in `actual` are allowed. Arrays are compared by
 * position and must have the same length.
 */
export function findMismatches(expected: unknown, actual: unknown, path = ''): Mismatch[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path: path || '(root)', expected, actual }];
    return expected.flatMap((item: unknown, index) => findMismatches(item, actual[index], `${path}[${index}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [{ path: path || '(root)', expected, actual }];
    return Object.entries(expected).flatMap(([key, value]) =>
      findMismatches(value, (actual as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`),
    );
  }
  return Object.is(expected, actual) ? [] : [{ path: path || '(root)', expected, actual }];
}
