import type { ColumnType } from 'kysely';
import { PipelineError } from '../errors.js';

/**
 * Column conventions shared by every ledger table, chosen so that one migration and one set of
 * queries run on SQLite and PostgreSQL:
 * - money and Stripe timestamps (Unix seconds) are `bigint` columns holding safe JS integers;
 * - booleans are `integer` columns holding 0 or 1;
 * - wall-clock times are ISO-8601 text;
 * - Stripe ids and the account (`''` for the platform account) are text.
 */

/**
 * A `bigint` column. SQLite returns it as a number; node-postgres returns int8 as a string unless
 * a type parser is set, so every read goes through `toInteger`.
 */
export type BigintColumn = ColumnType<number | string | bigint, number, number>;
export type NullableBigintColumn = ColumnType<number | string | bigint | null, number | null, number | null>;

/** A boolean stored as integer 0 or 1. */
export type FlagColumn = number;

/** Raised when a stored integer is not a safe JS integer, which means the row is corrupt. */
export class LedgerIntegerError extends PipelineError {
  constructor(value: string) {
    super('ledger_integer_invalid', `The ledger holds "${value}" where a safe integer was expected.`, { context: { value } });
  }
}

/** Converts a `bigint` column value (number, numeric string or bigint) to a safe integer. */
export function toInteger(value: number | string | bigint): number {
  const converted = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(converted)) throw new LedgerIntegerError(String(value));
  return converted;
}

export function toNullableInteger(value: number | string | bigint | null): number | null {
  return value === null ? null : toInteger(value);
}

export function toFlag(value: boolean): FlagColumn {
  return value ? 1 : 0;
}

export function fromFlag(value: number | string | null): boolean {
  return value !== null && Number(value) === 1;
}

export function fromNullableFlag(value: number | string | null): boolean | null {
  return value === null ? null : Number(value) === 1;
}

/** Returns the ledger's account key: the connected account id, or `''` for the platform account. */
export function accountKey(account: string | null | undefined): string {
  return account ?? '';
}
