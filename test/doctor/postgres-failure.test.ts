import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgresFailure, postgresFailureMessage } from '../../src/doctor/postgres-failure.js';
import { LedgerMigrationError } from '../../src/ledger/migrate.js';
import { createPostgresLedger } from '../../src/ledger/postgres.js';
import { createSilentLogger } from '../../src/logger.js';
import { freePort } from '../distributed/support/services.js';
import { openPostgresTestLedger, type PostgresTestLedger } from '../support/ledger-postgres.js';

/** The errors come from the real PostgreSQL server at 127.0.0.1:5432 and a closed loopback port. */

/** Runs `query` and returns what it rejected with; fails the test when it resolves. */
async function failureOf(query: () => Promise<unknown>): Promise<unknown> {
  const outcome = await query().then(
    () => ({ failed: false as const }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  if (!outcome.failed) throw new Error('Expected the query to fail.');
  return outcome.error;
}

describe('postgres failure messages', () => {
  let ledger: PostgresTestLedger;

  beforeAll(async () => {
    ledger = await openPostgresTestLedger('postgres_failure');
  });

  afterAll(async () => {
    await ledger?.close();
  });

  it('names a refused connection', async () => {
    const port = await freePort();
    const unreachable = createPostgresLedger({ url: `postgres://pipeline:secret@127.0.0.1:${port}/pipeline`, logger: createSilentLogger(), maxConnections: 1 });
    try {
      const error = await failureOf(() => sql`select 1`.execute(unreachable));

      expect(describePostgresFailure(error)).toEqual({
        duringConnect: true,
        reason: 'connection refused',
        fix: 'Start PostgreSQL, or correct the host and port in DATABASE_URL.',
      });
      expect(postgresFailureMessage(error, { target: `127.0.0.1:${port}/pipeline`, action: 'Migrating the ledger' })).toBe(
        `Connecting to PostgreSQL at 127.0.0.1:${port}/pipeline failed: connection refused. Start PostgreSQL, or correct the host and port in DATABASE_URL.`,
      );
    } finally {
      await unreachable.destroy();
    }
  });

  it('names a failed migration', async () => {
    const serverError = await failureOf(() => sql`select * from no_such_table_for_tests`.execute(ledger.db));

    const message = postgresFailureMessage(new LedgerMigrationError('0004_example', serverError), { target: '127.0.0.1:5432/test', action: 'Migrating the ledger' });

    expect(message).toBe(
      'Applying ledger migration "0004_example" on PostgreSQL at 127.0.0.1:5432/test failed: relation "no_such_table_for_tests" does not exist. ' +
        'Check DATABASE_URL and the PostgreSQL server log. The ledger is left at the migration before it.',
    );
  });

  it('names the action after connecting', async () => {
    const serverError = await failureOf(() => sql`select * from no_such_table_for_tests`.execute(ledger.db));

    expect(postgresFailureMessage(serverError, { target: '127.0.0.1:5432/test', action: 'Reading the ledger migrations' })).toBe(
      'Reading the ledger migrations on PostgreSQL at 127.0.0.1:5432/test failed: relation "no_such_table_for_tests" does not exist. Check DATABASE_URL and the PostgreSQL server log.',
    );
  });
});
