import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDistributedBackend, PendingMigrationsError, type DistributedBackend } from '../../src/backend/distributed.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { UnsafeStartupError } from '../../src/doctor/enforce.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { pendingLedgerMigrations } from '../../src/ledger/migrate.js';
import { ledgerMigrations } from '../../src/ledger/migrations/index.js';
import { createPostgresLedger, postgresMigrationOptions } from '../../src/ledger/postgres.js';
import { createSilentLogger } from '../../src/logger.js';
import { createOwnRedis, createTestSchema, deleteRedisKeys, freePort, REDIS_URL, requireRedis, uniquePrefix, type OwnRedis, type TestSchema } from './support/services.js';

describe('distributed backend', () => {
  const keyPrefix = uniquePrefix('backend');
  const schemas: TestSchema[] = [];
  let safeRedis: OwnRedis;
  let opened: DistributedBackend | null = null;

  async function freshSchema(): Promise<TestSchema> {
    const schema = await createTestSchema('backend');
    schemas.push(schema);
    return schema;
  }

  function configFor(databaseUrl: string, env: Record<string, string> = {}): Config {
    return loadConfig({ LOG_LEVEL: 'silent', REDIS_URL, DATABASE_URL: databaseUrl, REDIS_KEY_PREFIX: keyPrefix, ...env });
  }

  async function pendingIn(schema: TestSchema): Promise<string[]> {
    const ledger = createPostgresLedger({ url: schema.url, logger: createSilentLogger(), maxConnections: 1 });
    try {
      return await pendingLedgerMigrations(ledger, await postgresMigrationOptions(ledger));
    } finally {
      await ledger.destroy();
    }
  }

  beforeAll(async () => {
    await requireRedis();
    safeRedis = await createOwnRedis(['--appendonly', 'yes']);
    await safeRedis.start();
  });

  afterEach(async () => {
    await opened?.close();
    opened = null;
  });

  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
    await safeRedis?.remove();
    await deleteRedisKeys(keyPrefix);
  });

  it('migrates on open in development and reports both services ready', async () => {
    const schema = await freshSchema();
    opened = await openDistributedBackend({ config: configFor(schema.url), logger: createSilentLogger() });

    expect(opened.kind).toBe('distributed');
    expect(await pendingIn(schema)).toEqual([]);
    expect(await opened.readiness()).toEqual({ redis: { ok: true }, postgres: { ok: true } });
  });

  it('queues disputes ahead of ignored events', async () => {
    const schema = await freshSchema();
    opened = await openDistributedBackend({ config: configFor(schema.url), logger: createSilentLogger() });
    const events = [
      { id: `evt_prio_ignored_${keyPrefix}`, type: 'product.created' },
      { id: `evt_prio_paid_${keyPrefix}`, type: 'checkout.session.completed' },
      { id: `evt_prio_dispute_${keyPrefix}`, type: 'charge.dispute.created' },
    ];
    for (const event of events) {
      await opened.events.ingest({ ...event, created: 1_787_000_000, livemode: false, account: null, payload: '{}' });
    }

    const claimed: string[] = [];
    for (let index = 0; index < events.length; index += 1) {
      const job = await opened.queue.claim({ leaseMs: 30_000 });
      if (job === null) break;
      claimed.push(job.type);
      await opened.queue.release(job, 60_000);
    }

    expect(claimed).toEqual(['charge.dispute.created', 'checkout.session.completed', 'product.created']);
  });

  it('refuses pending migrations in production and migrates nothing', async () => {
    const schema = await freshSchema();
    const config = configFor(schema.url, { NODE_ENV: 'production', ALLOW_UNSAFE_REDIS: 'true' });

    await expect(openDistributedBackend({ config, logger: createSilentLogger() })).rejects.toThrow(PendingMigrationsError);
    expect(await pendingIn(schema)).toEqual(Object.keys(ledgerMigrations));
  });

  it('refuses an unsafe redis in production', async () => {
    const schema = await freshSchema();
    opened = await openDistributedBackend({ config: configFor(schema.url), logger: createSilentLogger() });
    await opened.close();
    opened = null;

    // The shared test Redis has neither AOF nor RDB persistence.
    const config = configFor(schema.url, { NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_from_the_dashboard' });
    await expect(openDistributedBackend({ config, logger: createSilentLogger() })).rejects.toThrow(UnsafeStartupError);
  });

  it('starts production on a safe redis with a migrated ledger', async () => {
    const schema = await freshSchema();
    const development = configFor(schema.url);
    opened = await openDistributedBackend({ config: development, logger: createSilentLogger() });
    await opened.close();

    const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'production', REDIS_URL: safeRedis.url, DATABASE_URL: schema.url, REDIS_KEY_PREFIX: keyPrefix });
    opened = await openDistributedBackend({ config, logger: createSilentLogger() });
    expect(await opened.readiness()).toEqual({ redis: { ok: true }, postgres: { ok: true } });
  });

  it('names postgresql when it is unreachable', async () => {
    const closedPort = await freePort();
    const config = configFor(`postgres://postgres@127.0.0.1:${closedPort}/test`);

    const opening = openDistributedBackend({ config, logger: createSilentLogger() });

    await expect(opening).rejects.toThrow(StoreUnavailableError);
    await expect(opening).rejects.toThrow(
      `Connecting to PostgreSQL at 127.0.0.1:${closedPort}/test failed: connection refused. Start PostgreSQL, or correct the host and port in DATABASE_URL.`,
    );
  });
});
