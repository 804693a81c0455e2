import type { Decision, DecisionContext } from '../decision/types.js';
import { parseStripeEvent, type StripeEvent } from '../domain/stripe-event.js';
import { describeError, LeaseLostError, NonRetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ClaimedJob, Clock, JobQueue, LockHandle, ObjectLocks } from '../store/ports.js';
import { systemClock } from '../store/ports.js';
import { shouldRetry } from './backoff.js';
import { HandlerTimeoutError, withTimeout } from './timeout.js';
import { IdleWait } from './idle-wait.js';

/** Result of applying one event to the ledger, as the ledger reports it. */
export type ApplyResult = { applied: true; effects: string[] } | { applied: false; reason: string };

export interface EnrichmentRequest {
  readonly eventId: string;
  readonly eventType: string;
  readonly account: string | null;
  readonly decision: Decision;
}

export interface WorkerOptions {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly lockTtlMs: number;
  readonly handlerTimeoutMs: number;
  /** Retries after the first attempt before the event is dead-lettered. */
  readonly maxRetries: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly pollIntervalMs: number;
  readonly shutdownGraceMs: number;
  /** Delay before a job whose object lock is busy is offered again. */
  readonly lockBusyDelayMs?: number;
}

export interface WorkerDependencies {
  readonly queue: JobQueue;
  readonly locks: ObjectLocks;
  readonly decide: (event: StripeEvent, context: DecisionContext) => Decision;
  readonly decisionContext: DecisionContext;
  readonly lockKeyFor: (event: StripeEvent) => string;
  readonly applyEvent: (input: { event: StripeEvent; decision: Decision }) => Promise<ApplyResult>;
  /** Queues AI enrichment after the effect committed; absent when enrichment is off. */
  readonly requestEnrichment?: ((request: EnrichmentRequest) => Promise<void>) | undefined;
  readonly onOutcome?: ((outcome: JobOutcome) => void) | undefined;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  readonly random?: (() => number) | undefined;
  readonly options: WorkerOptions;
}

export type JobOutcome =
  | { readonly kind: 'processed'; readonly eventId: string; readonly eventType: string; readonly action: string; readonly durationMs: number }
  | { readonly kind: 'retried'; readonly eventId: string; readonly eventType: string; readonly delayMs: number; readonly durationMs: number }
  | { readonly kind: 'dead_lettered'; readonly eventId: string; readonly eventType: string; readonly durationMs: number }
  | { readonly kind: 'lock_busy'; readonly eventId: string; readonly eventType: string }
  | { readonly kind: 'lease_lost'; readonly eventId: string; readonly eventType: string };

const DEFAULT_LOCK_BUSY_DELAY_MS = 200;

/**
 * Claims jobs and runs each through claim → lock → decide → apply → record outcome. A failed
 * attempt is retried with backoff, or dead-lettered when the error is non-retryable or the retries
 * are used up. `stop` stops claiming and waits for the jobs in flight.
 */
export class PipelineWorker {
  private readonly deps: WorkerDependencies;
  private readonly clock: Clock;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly idle = new IdleWait();
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(deps: WorkerDependencies) {
    this.deps = deps;
    this.clock = deps.clock ?? systemClock;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { concurrency } = this.deps.options;
    this.deps.logger.info({ concurrency }, 'worker started');
    this.loops = Array.from({ length: concurrency }, (_, slot) => this.runLoop(slot));
  }

  /** Wakes idle slots so a job that was just queued starts without waiting for the next poll. */
  notify(): void {
    this.idle.wakeAll();
  }

  /**
   * Stops claiming and waits up to `shutdownGraceMs` for jobs in flight. A job still running after
   * that keeps its lease until it expires, and then another worker claims it again.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.notify();
    const grace = this.deps.options.shutdownGraceMs;
    const pending = this.inFlight.size;
    this.deps.logger.info({ inFlight: pending, graceMs: grace }, 'worker stopping');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), grace);
    });
    const result = await Promise.race([Promise.all(this.loops).then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.deps.logger.warn({ inFlight: this.inFlight.size }, 'worker stopped with jobs still in flight; their leases will expire');
    } else {
      this.deps.logger.info('worker stopped');
    }
  }

  /** Claims and processes one job. Resolves false when nothing was due. Used by tests and tools. */
  async processNext(): Promise<boolean> {
    const job = await this.deps.queue.claim({ leaseMs: this.deps.options.leaseMs });
    if (job === null) return false;
    await this.process(job);
    return true;
  }

  private async runLoop(slot: number): Promise<void> {
    while (this.running) {
      let job: ClaimedJob | null;
      try {
        job = await this.deps.queue.claim({ leaseMs: this.deps.options.leaseMs });
      } catch (error) {
        this.deps.logger.error({ slot, err: describeError(error) }, 'claiming a job failed; retrying after the poll interval');
        await this.sleep(this.deps.options.pollIntervalMs);
        continue;
      }
      if (job === null) {
        await this.sleep(this.deps.options.pollIntervalMs);
        continue;
      }
      const task = this.process(job);
      this.inFlight.add(task);
      try {
        await task;
      } finally {
        this.inFlight.delete(task);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.idle.sleep(ms);
  }

  private async process(job: ClaimedJob): Promise<void> {
    const { logger, options } = this.deps;
    const log = logger.child({ eventId: job.id, eventType: job.type, attempt: job.attempt });
    const startedAt = this.clock();
    let decision: Decision | null = null;
    let lock: LockHandle | null = null;
    let keepAlive: NodeJS.Timeout | undefined;

    try {
      if (job.attempt > options.maxRetries + 1) {
        // Every earlier attempt ended without a report (the worker died or lost its lease), so
        // this event may be what crashes workers: stop before running it again.
        throw new NonRetryableError(`Event ${job.id} was claimed ${job.attempt} times without finishing; its workers may have crashed on it.`);
      }
      const event = parsePayload(job);
      decision = this.deps.decide(event, this.deps.decisionContext);

      lock = await this.deps.locks.acquire(this.deps.lockKeyFor(event), options.lockTtlMs);
      if (lock === null) {
        // Another worker is applying an event about the same object. The job is offered again
        // shortly without counting an attempt, so a busy object never pushes it towards the dead letters.
        await this.deps.queue.release(job, this.lockBusyDelay());
        log.debug('object lock busy; job released');
        this.report({ kind: 'lock_busy', eventId: job.id, eventType: job.type });
        return;
      }
      keepAlive = this.keepAlive(job, lock, log);

      const result = await withTimeout(this.deps.applyEvent({ event, decision }), options.handlerTimeoutMs);
      await this.deps.queue.complete(job, decision);
      const durationMs = this.clock() - startedAt;
      if (result.applied) {
        log.info({ action: decision.action, effects: result.effects, durationMs }, 'event processed');
      } else {
        log.info({ action: decision.action, reason: result.reason }, 'event already applied; nothing changed');
      }
      this.report({ kind: 'processed', eventId: job.id, eventType: job.type, action: decision.action, durationMs });
      await this.enrich(job, decision, log);
    } catch (error) {
      await this.handleFailure(job, decision, error, log, startedAt);
    } finally {
      clearInterval(keepAlive);
      if (lock !== null) await this.releaseLock(lock, log);
    }
  }

  private async handleFailure(
    job: ClaimedJob,
    decision: Decision | null,
    error: unknown,
    log: Logger,
    startedAt: number,
  ): Promise<void> {
    const { options, queue } = this.deps;
    const message = describeError(error);
    const durationMs = this.clock() - startedAt;

    if (error instanceof LeaseLostError) {
      log.warn({ err: message }, 'lease lost; another worker owns the job now');
      this.report({ kind: 'lease_lost', eventId: job.id, eventType: job.type });
      return;
    }

    const plan = shouldRetry(
      { error, attempt: job.attempt, maxRetries: options.maxRetries },
      { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs, random: this.deps.random },
    );
    try {
      if (plan.kind === 'dead_letter') {
        await queue.deadLetter(job, { error: message, decision });
        log.error({ err: message, reason: plan.reason, maxRetries: options.maxRetries }, 'event dead-lettered');
        this.report({ kind: 'dead_lettered', eventId: job.id, eventType: job.type, durationMs });
        return;
      }
      await queue.retry(job, { error: message, delayMs: plan.delayMs, decision });
      log.warn({ err: message, delayMs: plan.delayMs, timedOut: error instanceof HandlerTimeoutError }, 'event failed; retry scheduled');
      this.report({ kind: 'retried', eventId: job.id, eventType: job.type, delayMs: plan.delayMs, durationMs });
    } catch (recordError) {
      // The outcome could not be recorded because the store is down or the lease was lost. The
      // lease expires and the job is claimed again, and the ledger marker keeps the effect single.
      log.error({ err: describeError(recordError), cause: message }, 'recording the failed attempt failed');
    }
  }

  /** Extends the job lease and the object lock while a slow handler still runs. */
  private keepAlive(job: ClaimedJob, lock: LockHandle, log: Logger): NodeJS.Timeout {
    const { leaseMs, lockTtlMs } = this.deps.options;
    const every = Math.max(50, Math.floor(Math.min(leaseMs, lockTtlMs) / 3));
    const timer = setInterval(() => {
      Promise.all([this.deps.queue.extendLease(job, leaseMs), lock.extend(lockTtlMs)])
        .then(([leaseKept, lockKept]) => {
          if (!leaseKept || !lockKept) log.warn({ leaseKept, lockKept }, 'lease or object lock lost while the handler runs');
        })
        .catch((error: unknown) => log.error({ err: describeError(error) }, 'extending the lease failed'));
    }, every);
    timer.unref();
    return timer;
  }

  private async releaseLock(lock: LockHandle, log: Logger): Promise<void> {
    try {
      await lock.release();
    } catch (error) {
      // The lock expires on its own after its TTL; nothing else depends on this release.
      log.warn({ err: describeError(error), lockKey: lock.key }, 'releasing the object lock failed');
    }
  }

  private async enrich(job: ClaimedJob, decision: Decision, log: Logger): Promise<void> {
    const request = this.deps.requestEnrichment;
    if (!decision.requiresAi || request === undefined) return;
    try {
      await request({ eventId: job.id, eventType: job.type, account: job.account, decision });
    } catch (error) {
      // Enrichment is advice only: its failure never affects the event's outcome.
      log.warn({ err: describeError(error), aiTask: decision.aiTask }, 'queueing enrichment failed');
    }
  }

  private lockBusyDelay(): number {
    const base = this.deps.options.lockBusyDelayMs ?? DEFAULT_LOCK_BUSY_DELAY_MS;
    const random = this.deps.random ?? Math.random;
    return Math.round(base * (0.5 + random()));
  }

  private report(outcome: JobOutcome): void {
    this.deps.onOutcome?.(outcome);
  }
}

function parsePayload(job: ClaimedJob): StripeEvent {
  let value: unknown;
  try {
    value = JSON.parse(job.payload);
  } catch (error) {
    throw new NonRetryableError(`The stored payload of event ${job.id} is not valid JSON.`, { cause: error });
  }
  const parsed = parseStripeEvent(value);
  if (!parsed.ok) throw new NonRetryableError(`The stored payload of event ${job.id} is not a Stripe event: ${parsed.problem}.`);
  return parsed.event;
}
