import type { Kysely } from 'kysely';
import { loadConfig, type Config } from './config/config.js';
import { runStartupChecks } from './doctor/checks.js';
import { enforceStartupChecks, UnsafeStartupError } from './doctor/enforce.js';
import { ConfigError, describeError } from './errors.js';
import type { ReadinessChecks } from './http/health-routes.js';
import { createWebhookHandler } from './http/app.js';
import { errorResponse, jsonResponse } from './http/errors.js';
import { checkWebhookPath, WEBHOOK_PATH } from './http/webhook-route.js';
import { createPostgresLedger } from './ledger/postgres.js';
import { findLedgerRecord } from './ledger/read.js';
import type { LedgerDatabase } from './ledger/schema.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { queuePriorityFor } from './decision/queue-priority.js';
import { openRedisStore, RedisUnavailableError, type RedisStore } from './store/redis/index.js';
import { LazyRedisStore } from './store/redis/lazy-store.js';

/** A Web-standard webhook handler, plus `close` for tests and platforms with a shutdown hook. */
export type ServerlessWebhookHandler = ((request: Request) => Promise<Response>) & {
  /** Closes the Redis connections and the PostgreSQL pool opened by earlier requests. */
  close(): Promise<void>;
};

export interface ServerlessOptions {
  /** Logger for the handler; by default JSON lines on stdout at LOG_LEVEL. */
  readonly logger?: Logger | undefined;
  /**
   * Path of the webhook endpoint, as the platform passes it in the request URL: for example
   * `/api/webhooks/stripe` for a Vercel function in `api/webhooks/stripe.ts`. Default
   * `/webhooks/stripe`. Throws RangeError at creation when it is not a plain path.
   */
  readonly webhookPath?: string | undefined;
}

interface Handler {
  readonly handle: (request: Request) => Promise<Response>;
  readonly store: LazyRedisStore;
  readonly ledger: Kysely<LedgerDatabase>;
}

/**
 * Returns the HTTP side of the distributed mode as one `(Request) => Promise<Response>` function
 * for serverless platforms: the webhook endpoint, `/healthz`, `/readyz`, `/metrics` and, with
 * ADMIN_TOKEN, the admin API. Workers run elsewhere (`stripe-pipeline worker`) on the same Redis
 * and PostgreSQL.
 *
 * The configuration is read on the first request, once per cold start. Redis is connected on the
 * first request that needs it (a signed webhook, `/readyz`, `/metrics` for the queue depth, the
 * admin API) and reused while the instance stays warm. `/healthz` and rejected webhooks never
 * connect. If Redis cannot be reached, a webhook gets 503, so Stripe retries, `/readyz` reports
 * it, and the next request tries again. The environment needs REDIS_URL, DATABASE_URL and
 * STRIPE_WEBHOOK_SECRET; the development secret fallback needs a disk and is not used here.
 * PostgreSQL is connected only when the admin API reads the ledger.
 */
export function createServerlessWebhookHandler(env: NodeJS.ProcessEnv = process.env, options: ServerlessOptions = {}): ServerlessWebhookHandler {
  const webhookPath = checkWebhookPath(options.webhookPath ?? WEBHOOK_PATH);
  let created: Handler | null = null;

  const handler = async (request: Request): Promise<Response> => {
    if (created === null) {
      try {
        created = createHandler(env, options, webhookPath);
      } catch (error) {
        return configurationFailure(request, error);
      }
    }
    return created.handle(request);
  };

  const close = async (): Promise<void> => {
    const current = created;
    created = null;
    if (current === null) return;
    await current.store.close();
    await current.ledger.destroy();
  };

  return Object.assign(handler, { close });
}

function createHandler(env: NodeJS.ProcessEnv, options: ServerlessOptions, webhookPath: string): Handler {
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

  const store = new LazyRedisStore(() => openCheckedStore(config, redisUrl, logger));
  // A function instance serves one request at a time on most platforms, so two connections do.
  const ledger = createPostgresLedger({ url: databaseUrl, logger, maxConnections: 2 });

  const handle = createWebhookHandler({
    config,
    events: store.events,
    queue: store.queue,
    logger: logger.child({ component: 'http' }),
    metrics: createMetrics(),
    // Ingest needs only Redis, so a PostgreSQL outage does not take the endpoint out of rotation.
    readiness: () => redisReadiness(store),
    findLedgerRecord: (id) => findLedgerRecord(ledger, id),
    webhookPath,
  });
  logger.info({ keyPrefix: config.storage.redisKeyPrefix, webhookPath }, 'serverless webhook handler created');
  return { handle, store, ledger };
}

/** Opens the Redis store and runs the Redis start-up checks on it; in production a failed danger check rejects. */
async function openCheckedStore(config: Config, redisUrl: string, logger: Logger): Promise<RedisStore> {
  let store: RedisStore;
  try {
    // The same priorities as `serve`, because BullMQ runs jobs without a priority before all others.
    store = await openRedisStore({
      url: redisUrl,
      keyPrefix: config.storage.redisKeyPrefix,
      retentionDays: config.storage.eventRetentionDays,
      priorityForType: queuePriorityFor,
      logger,
    });
  } catch (error) {
    // The client's error listener has logged a failed connection; anything else is logged here.
    if (!(error instanceof RedisUnavailableError)) logger.error({ err: describeError(error) }, 'opening the redis store failed');
    throw error;
  }
  try {
    enforceStartupChecks(await runStartupChecks({ config, redis: store.redis }), { config, logger });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Reports Redis for `/readyz`, opening the store first; a failure's detail names no client internals. */
async function redisReadiness(lazy: LazyRedisStore): Promise<ReadinessChecks> {
  let store: RedisStore;
  try {
    store = await lazy.store();
  } catch (error) {
    return { redis: { ok: false, detail: openFailureDetail(error) } };
  }
  return { redis: await store.checkReady() };
}

function openFailureDetail(error: unknown): string {
  // Its message names Redis, the address, the reason and the fix, and nothing from the client.
  if (error instanceof RedisUnavailableError) return error.message;
  if (error instanceof UnsafeStartupError) {
    return `Redis failed a start-up check (${error.checks.map((check) => check.name).join(', ')}); the function log has the details.`;
  }
  return 'Opening the Redis store failed; the function log has the error.';
}

/**
 * Responds to a request while the configuration is invalid: `/healthz` still says the process is up,
 * `/readyz` reports the configuration as failed, and every other path gets 500 without the
 * problems, which are in the log.
 */
function configurationFailure(request: Request, error: unknown): Response {
  const path = new URL(request.url).pathname;
  if (path === '/healthz') return jsonResponse({ status: 'ok' }, 200);
  if (path === '/readyz') {
    const checks: ReadinessChecks = { configuration: { ok: false, detail: 'The configuration is invalid; the function log lists the problems.' } };
    return jsonResponse({ status: 'not_ready', checks }, 503);
  }
  return errorResponse(error);
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
