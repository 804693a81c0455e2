import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { pendingLedgerMigrations } from '../ledger/migrate.js';
import { createPostgresLedger, postgresMigrationOptions } from '../ledger/postgres.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { Logger } from '../logger.js';
import { connectionCheck, leaseChecks, migrationCheck, redisChecks, webhookSecretCheck, type StartupCheck } from './checks.js';

export interface DoctorReport {
  readonly backend: 'embedded' | 'distributed';
  readonly env: Config['env'];
  readonly checks: readonly StartupCheck[];
}

/** Time `doctor` waits for a reply from Redis or PostgreSQL before it reports the connection as failed. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Runs every self-check against the configured services without changing anything: it reads
 * Redis settings and the ledger's migration table, and migrates nothing. The embedded backend
 * migrates its SQLite ledger on every start, so it has no migration check.
 */
export async function runDoctor(options: { config: Config; logger: Logger }): Promise<DoctorReport> {
  const { config, logger } = options;
  const { redisUrl, databaseUrl } = config.storage;
  const checks: StartupCheck[] = [];
  const distributed = redisUrl !== undefined && databaseUrl !== undefined;

  if (distributed) {
    checks.push(...(await checkRedis(redisUrl)));
    checks.push(await checkMigrations(databaseUrl, logger));
  }
  checks.push(...leaseChecks(config.worker));
  checks.push(webhookSecretCheck(config));
  return { backend: distributed ? 'distributed' : 'embedded', env: config.env, checks };
}

async function checkRedis(url: string): Promise<StartupCheck[]> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Connection errors surface through connect(); the listener keeps ioredis from reporting them twice.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    return [connectionCheck('redis-connection', error, 'Start Redis or correct REDIS_URL.')];
  }
  try {
    return await redisChecks(redis);
  } finally {
    redis.disconnect();
  }
}

async function checkMigrations(url: string, logger: Logger): Promise<StartupCheck> {
  const ledger: Kysely<LedgerDatabase> = createPostgresLedger({ url, logger, maxConnections: 1, connectionTimeoutMs: CONNECT_TIMEOUT_MS });
  try {
    const pending = await pendingLedgerMigrations(ledger, await postgresMigrationOptions(ledger));
    return migrationCheck(pending);
  } catch (error) {
    return connectionCheck('postgres-connection', error, 'Start PostgreSQL or correct DATABASE_URL (and its search_path).');
  } finally {
    await ledger.destroy();
  }
}
