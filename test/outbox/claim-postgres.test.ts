import { sql } from 'kysely';
import { createSilentLogger } from '../../src/logger.js';
import { createPostgresLedger } from '../../src/ledger/postgres.js';
import { openPostgresTestLedger } from '../support/ledger-postgres.js';
import { describeClaims } from './support/claim-contract.js';

/**
 * The same claims on a PostgreSQL ledger in a schema of its own, through two connection pools as
 * two worker processes would hold them.
 */
describeClaims('PostgreSQL', async () => {
  const postgres = await openPostgresTestLedger('outbox_claims');
  const user = await sql<{ user: string }>`select current_user as user`.execute(postgres.db);
  const second = createPostgresLedger({
    url: `postgres://${user.rows[0]?.user ?? 'postgres'}@127.0.0.1:5432/test`,
    schema: postgres.schema,
    logger: createSilentLogger(),
    maxConnections: 6,
  });
  return {
    first: postgres.db,
    second,
    clear: async () => {
      await postgres.db.deleteFrom('ledger_outbox').execute();
    },
    close: async () => {
      await second.destroy();
      await postgres.close();
    },
  };
});
