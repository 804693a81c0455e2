import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, withWebhookSecrets, type Config } from '../../src/config/config.js';
import { resolveWebhookSecrets } from '../../src/config/dev-secret.js';
import { leaseChecks, migrationCheck, redisChecks, webhookSecretCheck, type StartupCheck } from '../../src/doctor/checks.js';
import { enforceStartupChecks, UnsafeStartupError } from '../../src/doctor/enforce.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createOwnRedis, type OwnRedis } from './support/services.js';

const DISTRIBUTED = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };

function configFor(env: Record<string, string>): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...env });
}

/** Creates a logger whose JSON lines the test can read back. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const failedDanger: StartupCheck = {
  name: 'redis-persistence',
  ok: false,
  severity: 'danger',
  detail: 'Neither AOF nor RDB persistence is on.',
  fix: 'Turn on AOF.',
  overrideSetting: 'ALLOW_UNSAFE_REDIS',
};

describe('distributed configuration', () => {
  it('rejects REDIS_URL without DATABASE_URL', () => {
    expect(() => configFor({ REDIS_URL: DISTRIBUTED.REDIS_URL })).toThrow(ConfigError);
    expect(() => configFor({ REDIS_URL: DISTRIBUTED.REDIS_URL })).toThrow('REDIS_URL is set but DATABASE_URL is not');
  });

  it('rejects DATABASE_URL without REDIS_URL', () => {
    expect(() => configFor({ DATABASE_URL: DISTRIBUTED.DATABASE_URL })).toThrow('DATABASE_URL is set but REDIS_URL is not');
  });

  it('reads ALLOW_UNSAFE_REDIS, off by default', () => {
    expect(configFor(DISTRIBUTED).storage.allowUnsafeRedis).toBe(false);
    expect(configFor({ ...DISTRIBUTED, ALLOW_UNSAFE_REDIS: 'true' }).storage.allowUnsafeRedis).toBe(true);
    expect(() => configFor({ ALLOW_UNSAFE_REDIS: 'yes' })).toThrow('ALLOW_UNSAFE_REDIS should be "true" or "false", got "yes"');
  });
});

describe('redis checks', () => {
  let unsafe: OwnRedis;
  let safe: OwnRedis;

  beforeAll(async () => {
    unsafe = await createOwnRedis(['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
    safe = await createOwnRedis(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    await Promise.all([unsafe.start(), safe.start()]);
  });

  afterAll(async () => {
    await unsafe?.remove();
    await safe?.remove();
  });

  async function checksOf(server: OwnRedis): Promise<StartupCheck[]> {
    const client = new Redis(server.url);
    try {
      return await redisChecks(client);
    } finally {
      client.disconnect();
    }
  }

  it('fails persistence and eviction on an unsafe redis', async () => {
    const checks = await checksOf(unsafe);
    expect(checks.find((check) => check.name === 'redis-persistence')).toMatchObject({ ok: false, severity: 'danger', overrideSetting: 'ALLOW_UNSAFE_REDIS' });
    expect(checks.find((check) => check.name === 'redis-eviction-policy')).toMatchObject({ ok: false, severity: 'danger' });
    expect(checks.find((check) => check.name === 'redis-eviction-policy')?.detail).toContain('allkeys-lru');
  });

  it('passes on redis with AOF and noeviction', async () => {
    const checks = await checksOf(safe);
    expect(checks.map((check) => [check.name, check.ok])).toEqual([
      ['redis-persistence', true],
      ['redis-eviction-policy', true],
    ]);
  });
});

describe('other checks', () => {
  it('warns when the lease is shorter than the handler timeout', () => {
    const config = configFor({ JOB_LEASE_MS: '2000', HANDLER_TIMEOUT_MS: '10000' });
    const [lease, lock] = leaseChecks(config.worker);
    expect(lease).toMatchObject({ name: 'job-lease', ok: false, severity: 'warning' });
    expect(lease?.fix).toContain('JOB_LEASE_MS');
    expect(lock).toMatchObject({ name: 'object-lock-ttl', ok: true });
  });

  it('fails pending migrations as danger', () => {
    expect(migrationCheck(['0002_enrichments'])).toMatchObject({ ok: false, severity: 'danger', overrideSetting: null });
    expect(migrationCheck([]).ok).toBe(true);
  });

  describe('webhook secret', () => {
    let dataDir: string;
    let devSecret: string;

    beforeAll(() => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-checks-'));
      devSecret = resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: true }).secrets[0] ?? '';
    });

    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it('fails the development secret in production', () => {
      const config = configFor({ NODE_ENV: 'production', DATA_DIR: dataDir, STRIPE_WEBHOOK_SECRET: devSecret });
      expect(webhookSecretCheck(config)).toMatchObject({ name: 'webhook-secret', ok: false, severity: 'danger' });
    });

    it('accepts the development secret in development', () => {
      const config = withWebhookSecrets(configFor({ DATA_DIR: dataDir }), [devSecret]);
      expect(webhookSecretCheck(config).ok).toBe(true);
    });

    it('accepts another secret in production', () => {
      const config = configFor({ NODE_ENV: 'production', DATA_DIR: dataDir, STRIPE_WEBHOOK_SECRET: 'whsec_from_the_dashboard' });
      expect(webhookSecretCheck(config).ok).toBe(true);
    });
  });
});

describe('enforcing the checks', () => {
  it('stops production on a failed danger check', () => {
    const { logger, lines } = capturingLogger();
    const config = configFor({ ...DISTRIBUTED, NODE_ENV: 'production' });

    expect(() => enforceStartupChecks([failedDanger], { config, logger })).toThrow(UnsafeStartupError);
    expect(() => enforceStartupChecks([failedDanger], { config, logger })).toThrow('To start anyway, set ALLOW_UNSAFE_REDIS=true');
    expect(lines()[0]).toMatchObject({ msg: 'start-up check failed', check: 'redis-persistence', fix: 'Turn on AOF.' });
  });

  it('lets ALLOW_UNSAFE_REDIS start production with a warning', () => {
    const { logger, lines } = capturingLogger();
    const config = configFor({ ...DISTRIBUTED, NODE_ENV: 'production', ALLOW_UNSAFE_REDIS: 'true' });

    enforceStartupChecks([failedDanger], { config, logger });

    expect(lines().map((line) => line['msg'])).toEqual(['start-up check failed', 'starting despite a failed danger check, because an override is set']);
  });

  it('keeps pending migrations fatal despite ALLOW_UNSAFE_REDIS', () => {
    const { logger } = capturingLogger();
    const config = configFor({ ...DISTRIBUTED, NODE_ENV: 'production', ALLOW_UNSAFE_REDIS: 'true' });
    expect(() => enforceStartupChecks([migrationCheck(['0001_ledger'])], { config, logger })).toThrow(UnsafeStartupError);
  });

  it('only warns outside production', () => {
    const { logger, lines } = capturingLogger();
    const config = configFor(DISTRIBUTED);

    enforceStartupChecks([failedDanger, migrationCheck(['0001_ledger'])], { config, logger });

    expect(lines().filter((line) => line['msg'] === 'start-up check failed').map((line) => line['check'])).toEqual(['redis-persistence', 'ledger-migrations']);
  });
});
