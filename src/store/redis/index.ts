import type { Redis } from 'ioredis';
import type { Priority } from '../../decision/types.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { systemClock, type Clock, type EventStore, type JobQueue, type ObjectLocks } from '../ports.js';
import { createCommandClient, describeRedisUrl, reportErrorsEvery } from './connection.js';
import { JobConsumer } from './consumer.js';
import type { StoreContext } from './context.js';
import { RedisEventStore } from './event-store.js';
import { connectRedis, pingFailureDetail, RedisConnectionWatch } from './failures.js';
import { RedisJobQueue } from './job-queue.js';
import { storeKeys } from './keys.js';
import { StoreMaintenance } from './maintenance.js';
import { RedisObjectLocks } from './object-locks.js';
import { JobProducer } from './producer.js';

export { checkLeaseTimes, checkRedisSafety, type SafetyCheck } from './safety.js';
export { jobIdFor } from './keys.js';
export { RedisUnavailableError } from './failures.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL; never logged with its credentials. */
  readonly url: string;
  /** Prefix of every key this store and its BullMQ queue write. */
  readonly keyPrefix: string;
  /** Days a record is kept after its last change; longer than Stripe's 3 days of retries. */
  readonly retentionDays: number;
  readonly logger: Logger;
  /** Clock for the record's times; BullMQ's delays and locks always use the real clock. */
  readonly clock?: Clock | undefined;
  /** Time after which a Redis command fails; default 1000 ms, so ingest fails within about a second. */
  readonly commandTimeoutMs?: number | undefined;
  /** Time an ingest or replay has to confirm its job before others enqueue it; default 10 000 ms. */
  readonly enqueueGraceMs?: number | undefined;
  /** How often BullMQ looks for jobs whose lease expired; default 30 000 ms. */
  readonly stalledIntervalMs?: number | undefined;
  /** Lease expiries a job may have before its event is dead-lettered; default 3. */
  readonly maxStalledCount?: number | undefined;
  /** How often a worker process runs the sweeper and index expiry; default 30 000 ms. */
  readonly maintenanceIntervalMs?: number | undefined;
  /** Queue priority per event type; when absent, jobs run in the order they were queued. */
  readonly priorityForType?: ((eventType: string) => Priority) | undefined;
}

export interface RedisStore {
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly locks: ObjectLocks;
  /** The fail-fast client the store uses; for `checkRedisSafety`. */
  readonly redis: Redis;
  /**
   * Sends PING for `/readyz`. A failure is reported as a plain sentence with the address and the
   * reason (connection refused, timed out, closed). The client's own error goes to the log, at
   * most once every 30 s.
   */
  checkReady(): Promise<{ ok: boolean; detail?: string }>;
  /**
   * Enqueues events recorded without a confirmed job (see StoreMaintenance). A worker process
   * runs it every `maintenanceIntervalMs` from its first claim on; call it directly elsewhere.
   */
  sweepUnqueued(): Promise<number>;
  /** Removes index entries of expired records; runs with the sweeper. */
  expireIndexes(): Promise<number>;
  /** Stops the maintenance timer and the BullMQ worker, and closes the connections. */
  close(): Promise<void>;
}

/**
 * Opens the distributed backend's event store, job queue and object locks on Redis. Rejects with
 * RedisUnavailableError (a StoreUnavailableError) naming the address, the reason and the fix when
 * Redis cannot be reached.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const settings = resolveSettings(options);
  const { logger } = options;
  const keys = storeKeys(options.keyPrefix);
  const target = describeRedisUrl(options.url);

  const redis = createCommandClient(options.url, { commandTimeoutMs: settings.commandTimeoutMs, connectionName: `${options.keyPrefix}:store` });
  redis.on('error', reportErrorsEvery(logger.child({ redis: target }), 'redis connection error', 30_000));
  const connection = new RedisConnectionWatch(redis, target);
  await connectRedis(redis, connection);

  const producer = new JobProducer({ redis, prefix: options.keyPrefix, logger, priorityForType: options.priorityForType });
  const context: StoreContext = {
    redis,
    connection,
    keys,
    clock: options.clock ?? systemClock,
    logger,
    retentionMs: settings.retentionMs,
    enqueueGraceMs: settings.enqueueGraceMs,
    producer,
  };
  const maintenance = new StoreMaintenance(context);
  const consumer = new JobConsumer({
    url: options.url,
    prefix: options.keyPrefix,
    logger,
    stalledIntervalMs: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    onStart: () => maintenance.start(settings.maintenanceIntervalMs),
  });
  logger.info({ redis: target, keyPrefix: options.keyPrefix, retentionDays: options.retentionDays }, 'redis store opened');

  const reportPingFailure = reportErrorsEvery(logger.child({ redis: target }), 'redis readiness ping failed', 30_000);
  let closing: Promise<void> | null = null;
  return {
    events: new RedisEventStore(context),
    queue: new RedisJobQueue(context, consumer),
    locks: new RedisObjectLocks({ redis, keys, logger, connection }),
    redis,
    async checkReady() {
      try {
        await redis.ping();
        return { ok: true };
      } catch (error) {
        reportPingFailure(error);
        return { ok: false, detail: pingFailureDetail(connection, error) };
      }
    },
    sweepUnqueued: () => maintenance.sweepUnqueued(),
    expireIndexes: () => maintenance.expireIndexes(),
    close(): Promise<void> {
      closing ??= closeAll(logger, [() => maintenance.stop(), () => consumer.close(), () => producer.close(), () => quit(redis)]);
      return closing;
    },
  };
}

interface Settings {
  readonly retentionMs: number;
  readonly commandTimeoutMs: number;
  readonly enqueueGraceMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly maintenanceIntervalMs: number;
}

function resolveSettings(options: RedisStoreOptions): Settings {
  const settings = {
    retentionMs: positiveInteger('retentionDays', options.retentionDays) * DAY_MS,
    commandTimeoutMs: positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 1000),
    enqueueGraceMs: positiveInteger('enqueueGraceMs', options.enqueueGraceMs ?? 10_000),
    stalledIntervalMs: positiveInteger('stalledIntervalMs', options.stalledIntervalMs ?? 30_000),
    maxStalledCount: positiveInteger('maxStalledCount', options.maxStalledCount ?? 3),
    maintenanceIntervalMs: positiveInteger('maintenanceIntervalMs', options.maintenanceIntervalMs ?? 30_000),
  };
  // A slow but successful ingest must confirm its job before anyone else may take it over.
  if (settings.enqueueGraceMs <= 3 * settings.commandTimeoutMs) {
    const minimum = 3 * settings.commandTimeoutMs;
    throw new RangeError(`enqueueGraceMs should be more than three command timeouts (${minimum} ms), got ${settings.enqueueGraceMs}`);
  }
  return settings;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} should be a whole number of at least 1, got ${value}`);
  return value;
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    // QUIT fails when the connection is already down; drop the socket instead.
    redis.disconnect();
  }
}

async function closeAll(logger: Logger, steps: readonly (() => Promise<void>)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'closing the redis store failed in part; continuing');
    }
  }
}
