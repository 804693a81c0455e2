import { LedgerMigrationError } from '../ledger/migrate.js';

/*
 * Plain descriptions of PostgreSQL failures for start-up errors, `migrate` and `doctor`. The
 * driver's own messages ("connect ECONNREFUSED 127.0.0.1:5499", `role "user" does not exist`)
 * name neither PostgreSQL nor DATABASE_URL; these helpers add what failed and the fix.
 */

export interface PostgresFailure {
  /** True when the failure happened while connecting, before any statement ran. */
  readonly duringConnect: boolean;
  /** The driver's reason: a plain phrase for socket errors, the server's own message otherwise. */
  readonly reason: string;
  /** The next step for an operator, such as correcting a part of DATABASE_URL. */
  readonly fix: string;
}

/** Reasons for node's socket error codes. */
const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection closed',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

const REACH_FIX = 'Check that this machine can reach PostgreSQL (network, firewall), or correct DATABASE_URL.';

/** Fixes for the SQLSTATE codes a misconfigured connection or ledger gets, from the PostgreSQL manual's error code table. */
const SQLSTATE_FIXES: Readonly<Record<string, { readonly duringConnect: boolean; readonly fix: string }>> = {
  // invalid_authorization_specification: an unknown role, or no pg_hba.conf entry for it.
  '28000': { duringConnect: true, fix: 'Correct the user name in DATABASE_URL, or create the role and allow it in pg_hba.conf.' },
  // invalid_password
  '28P01': { duringConnect: true, fix: 'Correct the password in DATABASE_URL.' },
  // invalid_catalog_name: the database does not exist.
  '3D000': { duringConnect: true, fix: 'Create the database (createdb), or correct the database name in DATABASE_URL.' },
  // cannot_connect_now: the server is starting up or shutting down.
  '57P03': { duringConnect: true, fix: 'Wait until PostgreSQL has started, then try again.' },
  // too_many_connections
  '53300': { duringConnect: true, fix: 'Lower WORKER_CONCURRENCY or the number of processes, or raise max_connections in PostgreSQL.' },
  // insufficient_privilege
  '42501': { duringConnect: false, fix: 'Grant the user in DATABASE_URL the rights it needs on the ledger schema (CREATE for migrations), or connect as its owner.' },
  // invalid_schema_name
  '3F000': { duringConnect: false, fix: 'Create the schema named in the search_path, or correct the search_path in DATABASE_URL.' },
};

/** Classifies a PostgreSQL failure: whether it happened while connecting, the reason, and the fix. */
export function describePostgresFailure(error: unknown): PostgresFailure {
  const cause = error instanceof LedgerMigrationError ? error.cause : error;
  const code = errorCode(cause);
  const socketReason = code === undefined ? undefined : SOCKET_REASONS[code];
  if (socketReason !== undefined) return { duringConnect: true, reason: socketReason, fix: socketFix(socketReason) };

  const message = trimPeriod(cause instanceof Error ? cause.message : String(cause));
  // node-postgres reports its own connection timeout and a dropped connection with these messages.
  if (/timeout/i.test(message) && /connect/i.test(message)) return { duringConnect: true, reason: 'timed out', fix: REACH_FIX };
  if (message.startsWith('Connection terminated')) {
    return { duringConnect: true, reason: 'connection closed by the server', fix: 'Check the PostgreSQL server log for why it closed the connection.' };
  }

  const known = code === undefined ? undefined : SQLSTATE_FIXES[code];
  if (known !== undefined) return { duringConnect: known.duringConnect, reason: message, fix: known.fix };
  return { duringConnect: false, reason: message, fix: 'Check DATABASE_URL and the PostgreSQL server log.' };
}

/**
 * Returns one message for a PostgreSQL failure: what failed (connecting, or `action`) at `target`,
 * the driver's reason, and the fix. `target` is `host:port/database` without the password (see
 * `describePostgresUrl`). A failed ledger migration is named, with the state it leaves.
 */
export function postgresFailureMessage(error: unknown, options: { readonly target: string; readonly action: string }): string {
  const failure = describePostgresFailure(error);
  // The migrator names no migration when it failed before running one (while connecting, say).
  const migrationName = error instanceof LedgerMigrationError ? String(error.context.migrationName) : 'unknown';
  let what = `${options.action} on PostgreSQL`;
  if (failure.duringConnect) what = 'Connecting to PostgreSQL';
  else if (migrationName !== 'unknown') what = `Applying ledger migration "${migrationName}" on PostgreSQL`;
  const state = migrationName === 'unknown' ? '' : ' The ledger is left at the migration before it.';
  return `${what} at ${options.target} failed: ${failure.reason}. ${failure.fix}${state}`;
}

function socketFix(reason: string): string {
  if (reason === 'connection refused') return 'Start PostgreSQL, or correct the host and port in DATABASE_URL.';
  if (reason === 'host not found') return 'Correct the host name in DATABASE_URL.';
  return REACH_FIX;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node reports a refused connection to a host with several addresses as an AggregateError.
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

function trimPeriod(text: string): string {
  return text.replace(/\.+$/, '');
}
