import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { pendingLedgerMigrations } from '../ledger/migrate.js';
import { createPostgresLedger, describePostgresUrl, postgresMigrationOptions } from '../ledger/postgres.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { Logger } from '../logger.js';
import { describeRedisUrl } from '../store/redis/connection.js';
import { connectionFix, connectRedis, RedisConnectionWatch, RedisUnavailableError } from '../store/redis/failures.js';
import { connectionCheck, leaseChecks, migrationCheck, redisChecks, webhookSecretCheck, type StartupCheck } from './checks.js';
import { describePostgresFailure } from './postgres-failure.js';

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
  // Connection errors surface through connectRedis; the listener keeps ioredis from printing them.
  redis.on('error', () => undefined);
  const target = describeRedisUrl(url);
  try {
    await connectRedis(redis, new RedisConnectionWatch(redis, target));
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    return [connectionCheck('redis-connection', `Connecting to Redis at ${target} failed: ${error.reason}.`, connectionFix(error.reason))];
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
    const failure = describePostgresFailure(error);
    const what = failure.duringConnect ? 'Connecting to PostgreSQL' : 'Reading the ledger migrations from PostgreSQL';
    return connectionCheck('postgres-connection', `${what} at ${describePostgresUrl(url)} failed: ${failure.reason}.`, failure.fix);
  } finally {
    await ledger.destroy();
  }
}
