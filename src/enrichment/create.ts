import type Database from 'better-sqlite3';
import type { ConnectionOptions } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../store/ports.js';
import { ProviderBreakers } from './breaker.js';
import { EnrichmentSetupError } from './errors.js';
import type { EnrichmentQueue, EnrichmentRequest } from './ports.js';
import type { EnrichmentCallOutcome, LoadEvent } from './process-job.js';
import { createProviderFromConfig } from './providers/index.js';
import { BullMqEnrichmentQueue } from './queue/bullmq-queue.js';
import { SqliteEnrichmentQueue } from './queue/sqlite-queue.js';
import { gateEnrichmentQueue } from './queue/gated-queue.js';
import type { SqliteGate } from '../store/sqlite/gate.js';
import { ledgerEnrichmentResults } from './results.js';
import { EnrichmentRunner } from './runner.js';
import type { AiProvider, AiProviderName, BreakerStateName } from './types.js';

export interface EnrichmentDeps<DB> {
  readonly logger: Logger;
  /** The ledger database (SQLite or PostgreSQL), migrated to include `ledger_enrichments`. */
  readonly ledger: Kysely<DB>;
  readonly loadEvent: LoadEvent;
  /** The embedded backend's better-sqlite3 handle; the queue used when REDIS_URL is not set. */
  readonly sqlite?: Database.Database;
  /** Gate shared with the other users of `sqlite`; every queue call runs inside it. */
  readonly sqliteGate?: SqliteGate;
  /** Redis connection for the BullMQ queue; defaults to REDIS_URL. */
  readonly redis?: ConnectionOptions;
  readonly clock?: Clock;
  /** Runner slots; defaults to `ENRICHMENT_RUNNER_DEFAULTS.concurrency`. */
  readonly concurrency?: number;
  /** Replaces the provider built from the configuration (tests, custom adapters). */
  readonly provider?: AiProvider;
  /** Called on every circuit breaker state change, for the metrics gauge. */
  readonly onBreakerStateChange?: (provider: AiProviderName, state: BreakerStateName) => void;
  /** Called once per provider call with its outcome, for the metrics counter. */
  readonly onCall?: (provider: string, outcome: EnrichmentCallOutcome) => void;
}

export interface Enrichment {
  /** Null when `AI_PROVIDER=none`: nothing is ever enqueued. */
  readonly queue: EnrichmentQueue | null;
  /** Null when `AI_PROVIDER=none`. The caller starts and stops it. */
  readonly runner: EnrichmentRunner | null;
  /** State of each provider's circuit breaker, for `/readyz`; empty when enrichment is off. */
  breakerStates(): Record<string, BreakerStateName>;
  /**
   * Queues an enrichment and never rejects: a failure is logged and counted, because enrichment
   * must not fail business processing. Does nothing when enrichment is off.
   */
  request(request: EnrichmentRequest): Promise<void>;
  /** Stops the runner and closes the queue. */
  close(): Promise<void>;
}

/**
 * Sets up AI enrichment from the configuration. With `AI_PROVIDER=none` it returns nulls and no
 * queue, runner or provider client is created. Otherwise the queue is BullMQ on Redis when
 * REDIS_URL is set, else the SQLite table in the embedded database.
 */
export function createEnrichment<DB>(config: Config, deps: EnrichmentDeps<DB>): Enrichment {
  const logger = deps.logger.child({ component: 'enrichment' });
  const provider = config.ai.provider === 'none' ? null : (deps.provider ?? createProviderFromConfig(config.ai, logger));
  if (provider === null) {
    return {
      queue: null,
      runner: null,
      breakerStates: () => ({}),
      request: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }

  const clock = deps.clock ?? systemClock;
  const breakers = new ProviderBreakers(config.ai, logger, deps.onBreakerStateChange);
  breakers.register(provider.name);
  const queue = createQueue(config, deps, logger);
  const runner = new EnrichmentRunner({
    queue,
    provider,
    breakers,
    results: ledgerEnrichmentResults(deps.ledger, clock),
    loadEvent: deps.loadEvent,
    logger,
    callTimeoutMs: config.ai.timeoutMs,
    pendingTask: { pollIntervalMs: config.ai.manus.pollIntervalMs, timeoutMs: config.ai.manus.taskTimeoutMs },
    clock,
    ...(deps.concurrency === undefined ? {} : { concurrency: deps.concurrency }),
    ...(deps.onCall === undefined ? {} : { onCall: deps.onCall }),
  });

  return {
    queue,
    runner,
    breakerStates: () => breakers.states(),
    async request(request: EnrichmentRequest): Promise<void> {
      try {
        await queue.enqueue(request);
        runner.notify();
      } catch (error) {
        deps.onCall?.(provider.name, 'failed');
        logger.error({ eventId: request.eventId, eventType: request.eventType, task: request.task, error: describeError(error) }, 'enrichment enqueue failed');
      }
    },
    async close(): Promise<void> {
      await runner.stop();
      await queue.close();
    },
  };
}

function createQueue<DB>(config: Config, deps: EnrichmentDeps<DB>, logger: Logger): EnrichmentQueue {
  const { redisUrl, redisKeyPrefix } = config.storage;
  if (redisUrl !== undefined || deps.redis !== undefined) {
    return new BullMqEnrichmentQueue({
      // BullMQ workers need maxRetriesPerRequest null so a blocked command is never given up.
      connection: deps.redis ?? { url: redisUrl, maxRetriesPerRequest: null },
      prefix: redisKeyPrefix,
      lockDurationMs: config.ai.timeoutMs * 2 + 30_000,
      logger,
    });
  }
  if (deps.sqlite === undefined) {
    throw new EnrichmentSetupError('AI enrichment needs a queue: pass the embedded SQLite database, or set REDIS_URL.');
  }
  const queue = new SqliteEnrichmentQueue(deps.sqlite, { clock: deps.clock ?? systemClock });
  return deps.sqliteGate === undefined ? queue : gateEnrichmentQueue(queue, deps.sqliteGate);
}
