import type { Kysely } from 'kysely';
import { loadConfig, type Config } from './config/config.js';
import { runStartupChecks } from './doctor/checks.js';
import { enforceStartupChecks } from './doctor/enforce.js';
import { ConfigError, describeError } from './errors.js';
import { createWebhookHandler } from './http/app.js';
import { errorResponse } from './http/errors.js';
import { createPostgresLedger } from './ledger/postgres.js';
import { findLedgerRecord } from './ledger/read.js';
import type { LedgerDatabase } from './ledger/schema.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { openRedisStore, type RedisStore } from './store/redis/index.js';

/** A Web-standard webhook handler, plus `close` for tests and platforms with a shutdown hook. */
export type ServerlessWebhookHandler = ((request: Request) => Promise<Response>) & {
  /** Closes the Redis connections and the PostgreSQL pool opened by earlier requests. */
  close(): Promise<void>;
};

export interface ServerlessOptions {
  /** Logger for the handler; by default JSON lines on stdout at LOG_LEVEL. */
  readonly logger?: Logger | undefined;
}

interface Opened {
  readonly handle: (request: Request) => Promise<Response>;
  readonly store: RedisStore;
  readonly ledger: Kysely<LedgerDatabase>;
}

/**
 * Returns the HTTP side of the distributed mode as one `(Request) => Promise<Response>` function
 * for serverless platforms: the webhook endpoint, `/healthz`, `/readyz`, `/metrics` and, with
 * ADMIN_TOKEN, the admin API. Workers run elsewhere (`stripe-pipeline worker`) on the same Redis
 * and PostgreSQL.
 *
 * The configuration is read and Redis connected on the first request, once per cold start, and
 * reused while the instance stays warm. If Redis cannot be reached, that request gets 503, so
 * Stripe retries, and the next request tries again. The environment needs REDIS_URL,
 * DATABASE_URL and STRIPE_WEBHOOK_SECRET; the development secret fallback needs a disk and is
 * not used here. PostgreSQL is connected only when the admin API reads the ledger.
 */
export function createServerlessWebhookHandler(env: NodeJS.ProcessEnv = process.env, options: ServerlessOptions = {}): ServerlessWebhookHandler {
  let opening: Promise<Opened> | null = null;

  const handler = async (request: Request): Promise<Response> => {
    opening ??= open(env, options).catch((error: unknown) => {
      // Let the next request try again, for example once Redis is back.
      opening = null;
      throw error;
    });
    let opened: Opened;
    try {
      opened = await opening;
    } catch (error) {
      return errorResponse(error);
    }
    return opened.handle(request);
  };

  const close = async (): Promise<void> => {
    const current = opening;
    opening = null;
    if (current === null) return;
    const opened = await current.catch(() => null);
    if (opened === null) return;
    await opened.store.close();
    await opened.ledger.destroy();
  };

  return Object.assign(handler, { close });
}

async function open(env: NodeJS.ProcessEnv, options: ServerlessOptions): Promise<Opened> {
  let config: Config;
  try {
    config = serverlessConfig(env);
  } catch (error) {
    // The platform's log is the only place an operator sees why every request fails.
    (options.logger ?? createLogger({ level: 'info' })).error({ err: describeError(error) }, 'serverless handler configuration invalid');
    throw error;
  }
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const { redisUrl, databaseUrl } = config.storage;
  if (redisUrl === undefined || databaseUrl === undefined) throw new ConfigError(['REDIS_URL and DATABASE_URL are required']);

  const store = await openRedisStore({ url: redisUrl, keyPrefix: config.storage.redisKeyPrefix, retentionDays: config.storage.eventRetentionDays, logger });
  try {
    enforceStartupChecks(await runStartupChecks({ config, redis: store.redis }), { config, logger });
  } catch (error) {
    await store.close();
    throw error;
  }
  // A function instance serves one request at a time on most platforms, so two connections do.
  const ledger = createPostgresLedger({ url: databaseUrl, logger, maxConnections: 2 });

  const handle = createWebhookHandler({
    config,
    events: store.events,
    queue: store.queue,
    logger: logger.child({ component: 'http' }),
    metrics: createMetrics(),
    // Ingest needs only Redis, so a PostgreSQL outage does not take the endpoint out of rotation.
    readiness: async () => {
      try {
        await store.redis.ping();
        return { redis: { ok: true } };
      } catch (error) {
        return { redis: { ok: false, detail: describeError(error) } };
      }
    },
    findLedgerRecord: (id) => findLedgerRecord(ledger, id),
  });
  logger.info({ keyPrefix: config.storage.redisKeyPrefix }, 'serverless webhook handler ready');
  return { handle, store, ledger };
}

function serverlessConfig(env: NodeJS.ProcessEnv): Config {
  const config = loadConfig(env);
  const problems: string[] = [];
  if (config.storage.redisUrl === undefined) problems.push('REDIS_URL is required for the serverless handler, which keeps events in Redis');
  if (config.stripe.webhookSecrets.length === 0) {
    problems.push('STRIPE_WEBHOOK_SECRET is required for the serverless handler (copy the endpoint secret from the Stripe Dashboard)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

