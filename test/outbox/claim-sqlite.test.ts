import { openEmbeddedBackend } from '../../src/backend/embedded.js';
import { createSilentLogger } from '../../src/logger.js';
import { openTestBackend } from '../support/embedded-backend.js';
import { describeClaims } from './support/claim-contract.js';

/** Two embedded backends on one SQLite file, the way two processes on one machine share it. */
describeClaims('SQLite', async () => {
  const test = await openTestBackend();
  const second = await openEmbeddedBackend({ config: test.config, logger: createSilentLogger(), sqlitePath: test.config.storage.sqlitePath });
  return {
    first: test.backend.ledger,
    second: second.ledger,
    clear: async () => {
      await test.backend.ledger.deleteFrom('ledger_outbox').execute();
    },
    close: async () => {
      await second.close();
      await test.close();
    },
  };
});
