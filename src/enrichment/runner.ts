import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../store/ports.js';
import type { ProviderBreakers } from './breaker.js';
import type { EnrichmentJob, EnrichmentQueue } from './ports.js';
import { processEnrichmentJob, type EnrichmentCallOutcome, type LoadEvent, type ProcessJobDeps, type RetryPolicy } from './process-job.js';
import type { EnrichmentResults } from './results.js';
import type { AiProvider } from './types.js';
import { IdleWait } from '../worker/idle-wait.js';

/** Defaults of the runner; the numbers are starting points, not measured optima. */
export const ENRICHMENT_RUNNER_DEFAULTS = {
  /** Jobs processed at once; small, because enrichment is optional and must not compete with the worker. */
  concurrency: 2,
  /** Wait between claims when the queue is empty. */
  idlePollMs: 1000,
  /** Attempts per job, including the first. */
  maxAttempts: 3,
  backoffBaseMs: 5000,
  backoffMaxMs: 60_000,
  /** Maximum wait between claims after the queue itself failed (Redis or SQLite unavailable). */
  errorBackoffMaxMs: 30_000,
} as const;

export interface EnrichmentRunnerOptions {
  readonly queue: EnrichmentQueue;
  readonly provider: AiProvider;
  readonly breakers: ProviderBreakers;
  readonly results: EnrichmentResults;
  readonly loadEvent: LoadEvent;
  readonly logger: Logger;
  /** Maximum duration of one provider call. The lease on a job covers two calls, because a half-open trial may run first. */
  readonly callTimeoutMs: number;
  /** Poll interval and longest run of an asynchronous provider task (Manus). */
  readonly pendingTask: { readonly pollIntervalMs: number; readonly timeoutMs: number };
  readonly clock?: Clock;
  readonly concurrency?: number;
  readonly idlePollMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Called once per provider call with its outcome, for the metrics counter. */
  readonly onCall?: (provider: string, outcome: EnrichmentCallOutcome) => void;
}

/**
 * Takes jobs from the enrichment queue and runs them, `concurrency` at a time. A job occupies a slot
 * only for one short step (one provider call), never while an asynchronous provider task runs.
 * Errors in a job never leave the runner: they are logged, counted and, where it helps, retried.
 * Only `processNext` rejects, when the queue itself fails; the loops log that and back off.
 */
export class EnrichmentRunner {
  private readonly deps: ProcessJobDeps;
  private readonly concurrency: number;
  private readonly idlePollMs: number;
  private readonly leaseMs: number;
  private loops: Promise<void>[] = [];
  private stopping = false;
  private readonly idle = new IdleWait();

  constructor(options: EnrichmentRunnerOptions) {
    const defaults = ENRICHMENT_RUNNER_DEFAULTS;
    this.concurrency = options.concurrency ?? defaults.concurrency;
    this.idlePollMs = options.idlePollMs ?? defaults.idlePollMs;
    // Two calls (a half-open trial, then this job's own) plus room for the ledger and the queue.
    this.leaseMs = options.callTimeoutMs * 2 + 30_000;
    this.deps = {
      queue: options.queue,
      provider: options.provider,
      breakers: options.breakers,
      results: options.results,
      loadEvent: options.loadEvent,
      logger: options.logger,
      clock: options.clock ?? systemClock,
      pendingTask: options.pendingTask,
      onCall: options.onCall,
      retry: {
        maxAttempts: options.retry?.maxAttempts ?? defaults.maxAttempts,
        backoffBaseMs: options.retry?.backoffBaseMs ?? defaults.backoffBaseMs,
        backoffMaxMs: options.retry?.backoffMaxMs ?? defaults.backoffMaxMs,
        random: options.retry?.random ?? Math.random,
      },
    };
  }

  get running(): boolean {
    return this.loops.length > 0 && !this.stopping;
  }

  /** Starts the claim loops; calling it again while running does nothing. */
  start(): void {
    if (this.loops.length > 0) return;
    this.stopping = false;
    this.loops = Array.from({ length: this.concurrency }, (_, slot) => this.loop(slot));
    this.deps.logger.info({ concurrency: this.concurrency, provider: this.deps.provider.name }, 'enrichment runner started');
  }

  /** Stops claiming, waits for the jobs in progress (each bounded by the call timeout), then resolves. */
  async stop(): Promise<void> {
    if (this.loops.length === 0) return;
    this.stopping = true;
    this.idle.wakeAll();
    await Promise.all(this.loops);
    this.loops = [];
    this.deps.logger.info({ provider: this.deps.provider.name }, 'enrichment runner stopped');
  }

  /** Wakes idle loops so a job queued just now starts without waiting for the next poll. */
  notify(): void {
    this.idle.wakeAll();
  }

  /**
   * Claims and processes one due job. Resolves false when no job is due. Used by the loops, and
   * by tests and tools that drive the queue step by step.
   */
  async processNext(): Promise<boolean> {
    const job = await this.deps.queue.claim({ leaseMs: this.leaseMs });
    if (job === null) return false;
    await this.processSafely(job);
    return true;
  }

  private async processSafely(job: EnrichmentJob): Promise<void> {
    try {
      await processEnrichmentJob(job, this.deps);
    } catch (error) {
      // The ledger, the event store or the queue failed, not the provider. The lease runs out and
      // the job is claimed again, which counts as an attempt, so a lasting failure ends.
      this.deps.onCall?.(this.deps.provider.name, 'failed');
      this.deps.logger.error(
        { eventId: job.eventId, eventType: job.eventType, task: job.task, attempt: job.attempt, error: describeError(error) },
        'enrichment job failed',
      );
      if (job.attempt >= this.deps.retry.maxAttempts) await this.dropJob(job);
    }
  }

  // Gives up on a job that failed outside the provider on its last attempt.
  private async dropJob(job: EnrichmentJob): Promise<void> {
    try {
      await this.deps.queue.complete(job);
      this.deps.logger.error({ eventId: job.eventId, task: job.task, attempt: job.attempt }, 'enrichment job dropped');
    } catch (error) {
      this.deps.logger.error({ eventId: job.eventId, task: job.task, error: describeError(error) }, 'enrichment job drop failed');
    }
  }

  private async loop(slot: number): Promise<void> {
    let consecutiveErrors = 0;
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.processNext();
        consecutiveErrors = 0;
      } catch (error) {
        consecutiveErrors += 1;
        // Log the first failure and then every tenth, so an outage does not flood the log.
        if (consecutiveErrors === 1 || consecutiveErrors % 10 === 0) {
          this.deps.logger.error({ slot, consecutiveErrors, error: describeError(error) }, 'enrichment queue claim failed');
        }
      }
      if (worked || this.stopping) continue;
      const backoffMs = consecutiveErrors === 0 ? this.idlePollMs : Math.min(this.idlePollMs * 2 ** consecutiveErrors, ENRICHMENT_RUNNER_DEFAULTS.errorBackoffMaxMs);
      await this.sleep(backoffMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.idle.sleep(ms);
  }
}
