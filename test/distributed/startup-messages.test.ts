import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataDirectory, processEnvironment, runCli } from './support/processes.js';
import { createTestSchema, deleteRedisKeys, freePort, REDIS_URL, requireRedis, uniquePrefix, type TestSchema } from './support/services.js';

/**
 * What `migrate`, `serve`, `worker` and `doctor` print when PostgreSQL or Redis cannot be used:
 * what failed, at which address (never the password), the reason, and the fix, instead of the
 * driver's bare error. Closed ports are free loopback ports with nothing listening.
 */

const PASSWORD = 's3cret-pw-never-printed';
const DRIVER_TEXTS = ['Connection is closed', 'ECONNREFUSED', 'StoreUnavailableError', 'Error:', 'error:'];

describe('start-up failure messages', () => {
  const dataDirectory = createDataDirectory();
  const keyPrefix = uniquePrefix('startup-messages');
  let schema: TestSchema;

  beforeAll(async () => {
    await requireRedis();
    schema = await createTestSchema('startup_messages');
  });

  afterAll(async () => {
    await deleteRedisKeys(keyPrefix);
    await schema?.drop();
    dataDirectory.remove();
  });

  function environment(urls: { redisUrl?: string; databaseUrl?: string }, extra: Record<string, string> = {}): Record<string, string> {
    return processEnvironment(
      { redisUrl: urls.redisUrl ?? REDIS_URL, databaseUrl: urls.databaseUrl ?? schema.url, keyPrefix, extra },
      dataDirectory.path,
    );
  }

  /**
   * Checks the printed message for driver text. The JSON log lines keep the driver's error on
   * purpose, so only the password is looked for in them.
   */
  function expectNoDriverText(output: string): void {
    const printed = output
      .split('\n')
      .filter((line) => !line.startsWith('{'))
      .join('\n');
    for (const text of DRIVER_TEXTS) expect(printed).not.toContain(text);
    expect(output).not.toContain(PASSWORD);
  }

  describe('migrate', () => {
    it('names a refused postgresql', async () => {
      const port = await freePort();

      const result = await runCli(['migrate'], environment({ databaseUrl: `postgres://pipeline:${PASSWORD}@127.0.0.1:${port}/pipeline` }));

      expect(result.code).toBe(1);
      expect(result.output).toContain(
        `Connecting to PostgreSQL at 127.0.0.1:${port}/pipeline failed: connection refused. Start PostgreSQL, or correct the host and port in DATABASE_URL.`,
      );
      expectNoDriverText(result.output);
    }, 30_000);

    it('names an unknown role', async () => {
      const result = await runCli(['migrate'], environment({ databaseUrl: 'postgres://no_such_role_for_tests@127.0.0.1:5432/test' }));

      expect(result.code).toBe(1);
      expect(result.output).toContain(
        'Connecting to PostgreSQL at 127.0.0.1:5432/test failed: role "no_such_role_for_tests" does not exist. Correct the user name in DATABASE_URL, or create the role and allow it in pg_hba.conf.',
      );
      expectNoDriverText(result.output);
    }, 30_000);

    it('names an unknown database', async () => {
      const databaseUrl = schema.baseUrl.replace(/\/test$/, '/no_such_database_for_tests');

      const result = await runCli(['migrate'], environment({ databaseUrl }));

      expect(result.code).toBe(1);
      expect(result.output).toContain(
        'Connecting to PostgreSQL at 127.0.0.1:5432/no_such_database_for_tests failed: database "no_such_database_for_tests" does not exist. Create the database (createdb), or correct the database name in DATABASE_URL.',
      );
    }, 30_000);
  });

  describe('serve and worker', () => {
    it('serve names a refused redis', async () => {
      const port = await freePort();

      const result = await runCli(['serve'], environment({ redisUrl: `redis://:${PASSWORD}@127.0.0.1:${port}` }));

      expect(result.code).toBe(1);
      expect(result.output).toContain(`Connecting to Redis at 127.0.0.1:${port} failed: connection refused. Start Redis, or correct the host and port in REDIS_URL.`);
      expectNoDriverText(result.output);
    }, 30_000);

    it('worker names a refused postgresql', async () => {
      const port = await freePort();

      const result = await runCli(['worker'], environment({ databaseUrl: `postgres://pipeline:${PASSWORD}@127.0.0.1:${port}/pipeline` }));

      expect(result.code).toBe(1);
      expect(result.output).toContain(
        `Connecting to PostgreSQL at 127.0.0.1:${port}/pipeline failed: connection refused. Start PostgreSQL, or correct the host and port in DATABASE_URL.`,
      );
      expectNoDriverText(result.output);
    }, 30_000);

    it('worker names a taken METRICS_PORT', async () => {
      const occupied: Server = createServer();
      occupied.listen(0, '127.0.0.1');
      await once(occupied, 'listening');
      const address = occupied.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        const result = await runCli(['worker'], environment({}, { METRICS_PORT: String(port) }));

        expect(result.code).toBe(1);
        expect(result.output).toContain(`Listening for metrics on 127.0.0.1:${port} failed: the port is already in use. Set METRICS_PORT to a free port, or unset it.`);
      } finally {
        occupied.close();
      }
    }, 30_000);
  });

  describe('doctor', () => {
    it('names both refused services', async () => {
      const redisPort = await freePort();
      const postgresPort = await freePort();

      const result = await runCli(
        ['doctor'],
        environment({ redisUrl: `redis://127.0.0.1:${redisPort}`, databaseUrl: `postgres://pipeline:${PASSWORD}@127.0.0.1:${postgresPort}/pipeline` }),
      );

      expect(result.code).toBe(1);
      expect(result.output).toContain(`Connecting to Redis at 127.0.0.1:${redisPort} failed: connection refused.`);
      expect(result.output).toContain(`Connecting to PostgreSQL at 127.0.0.1:${postgresPort}/pipeline failed: connection refused.`);
      expect(result.output).toContain('fix: Start Redis, or correct the host and port in REDIS_URL.');
      expectNoDriverText(result.output);
    }, 30_000);
  });
});
