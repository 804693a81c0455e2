import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { runStartupChecks } from '../doctor/checks.js';
import { enforceStartupChecks } from '../doctor/enforce.js';
import { describePostgresFailure, postgresFailureMessage } from '../doctor/postgres-failure.js';
import { ConfigError, describeError, PipelineError, StoreUnavailableError } from '../errors.js';
import { LedgerMigrationError, migrateLedger, pendingLedgerMigrations } from '../ledger/migrate.js';
import { createPostgresLedger, describePostgresUrl, pingPostgres, postgresMigrationOptions } from '../ledger/postgres.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../store/ports.js';
import { queuePriorityFor } from '../decision/queue-priority.js';
import { openRedisStore, type RedisStore } from '../store/redis/index.js';
import type { Backend, ReadinessChecks } from './types.js';

/** Raised at start-up in production when the ledger database lacks migrations; `migrate` applies them. */
export class PendingMigrationsError extends PipelineError {
  constructor(pending: readonly string[]) {
    super(
      'ledger_migrations_pending',
      `The ledger database has ${pending.length} migration(s) not applied (${pending.join(', ')}). Run \`stripe-pipeline migrate\` before starting the service.`,
      { context: { pending } },
    );
  }
}

export interface DistributedBackend extends Backend {
  readonly kind: 'distributed';
  /** The Redis store underneath, for its sweeper and for safety checks. */
  readonly store: RedisStore;
}

export interface DistributedBackendOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /**
   * `enforce` (default) runs the start-up checks: warnings are logged, and in production a failed
   * danger check stops the start. `skip` runs none, for tools that report the checks themselves.
   */
  readonly checks?: 'enforce' | 'skip' | undefined;
}

/**
 * Opens the distributed backend: event store, queue and locks on Redis, the ledger on PostgreSQL.
 *
 * Migrations: in development and test the ledger is migrated on open, so a first run needs no
 * extra step. In production nothing is migrated implicitly. The open fails with
 * PendingMigrationsError until `migrate` has run, so processes of a deploy never race to change
 * the schema.
 */
export async function openDistributedBackend(options: DistributedBackendOptions): Promise<DistributedBackend> {
  const { config, logger } = options;
  const { redisUrl, databaseUrl } = config.storage;
  if (redisUrl === undefined || databaseUrl === undefined) {
    throw new ConfigError(['The distributed backend needs both REDIS_URL and DATABASE_URL']);
  }

  const store = await openRedisStore({
    url: redisUrl,
    keyPrefix: config.storage.redisKeyPrefix,
    retentionDays: config.storage.eventRetentionDays,
    priorityForType: queuePriorityFor,
    logger,
    clock: options.clock,
    // Look for jobs whose worker died at least once per lease, so a crashed worker's job returns
    // within a few leases instead of BullMQ's fixed 30 s.
    stalledIntervalMs: Math.min(30_000, config.worker.leaseMs),
  });
  // Sized for one worker process: a connection per concurrent job plus two for ingest and admin reads.
  const ledger = createPostgresLedger({ url: databaseUrl, logger, maxConnections: config.worker.concurrency + 2 });

  const target = describePostgresUrl(databaseUrl);
  try {
    await prepareLedger(ledger, config, logger).catch((error: unknown) => {
      // Pending migrations and a missing schema carry their own message and fix.
      if (error instanceof PipelineError && !(error instanceof LedgerMigrationError)) throw error;
      logger.error({ postgres: target, err: describeError(error) }, 'preparing the postgresql ledger failed');
      throw new StoreUnavailableError(postgresFailureMessage(error, { target, action: 'Reading the ledger migrations' }), {
        cause: error,
        context: { postgres: target },
      });
    });
    if (options.checks !== 'skip') {
      const checks = await runStartupChecks({ config, redis: store.redis, pendingMigrations: [] });
      enforceStartupChecks(checks, { config, logger });
    }
  } catch (error) {
    await closeBoth(store, ledger, logger);
    throw error;
  }
  logger.info({ postgres: target }, 'distributed backend opened');

  let closing: Promise<void> | null = null;
  return {
    kind: 'distributed',
    store,
    events: store.events,
    queue: store.queue,
    locks: store.locks,
    ledger,
    readiness: () => checkReadiness(store, ledger, target),
    close(): Promise<void> {
      closing ??= closeBoth(store, ledger, logger);
      return closing;
    },
  };
}

async function prepareLedger(ledger: Kysely<LedgerDatabase>, config: Config, logger: Logger): Promise<void> {
  const migrationOptions = await postgresMigrationOptions(ledger);
  if (config.env === 'production') {
    const pending = await pendingLedgerMigrations(ledger, migrationOptions);
    if (pending.length > 0) throw new PendingMigrationsError(pending);
    return;
  }
  const pending = await pendingLedgerMigrations(ledger, migrationOptions);
  if (pending.length === 0) return;
  await migrateLedger(ledger, migrationOptions);
  logger.info({ migrations: pending, env: config.env }, 'ledger migrated on start (development and test only)');
}

/** Checks both services; a failure's detail names the service, its address and the reason, never the driver's text. */
async function checkReadiness(store: RedisStore, ledger: Kysely<LedgerDatabase>, postgresTarget: string): Promise<ReadinessChecks> {
  const [redis, postgres] = await Promise.all([
    store.checkReady(),
    pingPostgres(ledger).then(
      () => ({ ok: true }),
      (error: unknown) => ({ ok: false, detail: `PostgreSQL at ${postgresTarget} did not answer select 1: ${describePostgresFailure(error).reason}.` }),
    ),
  ]);
  return { redis, postgres };
}

async function closeBoth(store: RedisStore, ledger: Kysely<LedgerDatabase>, logger: Logger): Promise<void> {
  await store.close();
  try {
    await ledger.destroy();
  } catch (error) {
    logger.warn({ err: describeError(error) }, 'closing the postgresql pool failed');
  }
}
