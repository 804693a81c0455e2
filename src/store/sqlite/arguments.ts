/** Rejects limits that SQLite would read as "no limit" (negative) or fail on (fractions). */
export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit should be a whole number of at least 0, got ${limit}`);
  }
}

/** Rejects a duration that is fractional, not finite or below `minimum` milliseconds. */
export function assertMilliseconds(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(`${name} should be a whole number of milliseconds, at least ${minimum}, got ${value}`);
  }
}
