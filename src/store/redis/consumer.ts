import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { createWorkerClient, reportErrorsEvery } from './connection.js';
import { eventIdFromJobId, QUEUE_NAME } from './keys.js';
import type { EventJobData } from './producer.js';

export type EventJob = Job<EventJobData, null>;

export interface ConsumerOptions {
  readonly url: string;
  readonly prefix: string;
  readonly logger: Logger;
  /** How often BullMQ looks for jobs whose lock expired. */
  readonly stalledIntervalMs: number;
  /** Lock expiries a job may have before the next claim dead-letters its event. */
  readonly maxStalledCount: number;
  /** Called once, when the first claim starts the worker (starts the maintenance timer). */
  readonly onStart: () => void;
}

/**
 * The claiming side of the queue: a BullMQ Worker used pull-style. It has no processor and never
 * runs BullMQ's own loop (`autorun: false`). `next` calls `getNextJob` without blocking, and the
 * job queue then moves the job on with its lock token (`moveToCompleted`, `moveToFailed`,
 * `moveToDelayed`, `extendLock`).
 *
 * The lease is the BullMQ job lock. A pull-style worker does not renew locks by itself (only
 * BullMQ's `run` loop does), so a job whose worker died keeps its lock only until the lease ends.
 * BullMQ's stalled checker then moves it back to waiting; it does not run without `run`, so this
 * class starts it explicitly. A job is recovered within roughly the lease plus up to two
 * `stalledIntervalMs`, because the checker marks active jobs in one pass and moves those whose
 * lock is gone in the next.
 *
 * The worker and its connections are created on the first claim, so an HTTP-only process that
 * never claims opens no worker connection.
 */
export class JobConsumer {
  private readonly options: ConsumerOptions;
  private starting: Promise<{ worker: Worker<EventJobData, null>; lockDurationMs: number }> | null = null;
  private client: Redis | null = null;
  private closed = false;

  constructor(options: ConsumerOptions) {
    this.options = options;
  }

  /** Hands out the next due job, locked under `token` for `leaseMs`; undefined when none is due. */
  async next(token: string, leaseMs: number): Promise<EventJob | undefined> {
    const { worker, lockDurationMs } = await this.start(leaseMs);
    const job: EventJob | undefined = await worker.getNextJob(token, { block: false });
    if (job === undefined) return undefined;
    // The worker locks every job for the lease of the first claim; apply this claim's own lease.
    if (leaseMs !== lockDurationMs) await job.extendLock(token, leaseMs);
    return job;
  }

  async close(): Promise<void> {
    this.closed = true;
    const starting = this.starting;
    this.starting = null;
    if (starting !== null) {
      try {
        const { worker } = await starting;
        await worker.close(true);
      } catch (error) {
        this.options.logger.warn({ err: describeError(error) }, 'closing the bullmq worker failed');
      }
    }
    if (this.client !== null) {
      this.client.disconnect();
      this.client = null;
    }
  }

  private start(leaseMs: number): Promise<{ worker: Worker<EventJobData, null>; lockDurationMs: number }> {
    if (this.closed) return Promise.reject(new Error('The Redis job queue is closed.'));
    this.starting ??= this.createWorker(leaseMs).catch((error: unknown) => {
      // Let the next claim try again instead of failing forever.
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  private async createWorker(leaseMs: number): Promise<{ worker: Worker<EventJobData, null>; lockDurationMs: number }> {
    const { logger } = this.options;
    this.client ??= createWorkerClient(this.options.url, `${this.options.prefix}:worker`);
    const worker = new Worker<EventJobData, null>(QUEUE_NAME, null, {
      connection: this.client,
      prefix: this.options.prefix,
      autorun: false,
      lockDuration: leaseMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: this.options.maxStalledCount,
    });
    worker.on('error', reportErrorsEvery(logger, 'bullmq worker reported an error', 30_000));
    worker.on('stalled', (jobId) => {
      logger.warn({ eventId: eventIdFromJobId(jobId), jobId }, 'job lease expired; job moved back to waiting');
    });
    await worker.waitUntilReady();
    await worker.startStalledCheckTimer();
    logger.info({ stalledIntervalMs: this.options.stalledIntervalMs, lockDurationMs: leaseMs }, 'bullmq worker started');
    this.options.onStart();
    return { worker, lockDurationMs: leaseMs };
  }
}
