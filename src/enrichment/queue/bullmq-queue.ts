import { randomUUID } from 'node:crypto';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { LeaseLostError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { enrichmentJobId, type EnrichmentJob, type EnrichmentQueue, type EnrichmentRequest } from '../ports.js';
import type { AiTaskType, PendingProviderTask } from '../types.js';

/** Queue name under the key prefix; BullMQ keys are `<prefix>:enrichment:…`. */
export const ENRICHMENT_QUEUE_NAME = 'enrichment';

// BullMQ serves priority 0 (none) first and larger numbers later, so enrichment jobs go behind
// any job with a smaller priority that a deployment might add to this queue.
const ENRICHMENT_JOB_PRIORITY = 1000;

interface JobData {
  readonly eventId: string;
  readonly eventType: string;
  readonly task: AiTaskType;
  readonly account: string | null;
  readonly attempt: number;
  readonly pending: PendingProviderTask | null;
  readonly lastError: string | null;
}

export interface BullMqEnrichmentQueueOptions {
  readonly connection: ConnectionOptions;
  /** Key prefix, so several deployments and test files can share one Redis. */
  readonly prefix: string;
  /**
   * Lock a claimed job holds before BullMQ treats its runner as dead; longer than the longest
   * provider call. `claim` sets each job's lease separately.
   */
  readonly lockDurationMs: number;
  readonly logger: Logger;
}

/**
 * Enrichment jobs on Redis through BullMQ, fetched by hand (`Worker.getNextJob`) so that the
 * runner decides when a job finishes, retries or waits. Completed jobs are removed
 * (`removeOnComplete`), so a later `enqueue` of the same event and task queues it again and the
 * runner finds the recorded result. BullMQ's stalled-job check returns a job whose runner died.
 *
 * BullMQ compares due times with the process clock (`Date.now()`), so the runner that uses this
 * queue must use the system clock too.
 */
export class BullMqEnrichmentQueue implements EnrichmentQueue {
  private readonly queue: Queue<JobData>;
  private readonly worker: Worker<JobData>;
  private readonly claimed = new Map<string, Job<JobData>>();
  private stalledCheckStarted = false;

  constructor(private readonly options: BullMqEnrichmentQueueOptions) {
    this.queue = new Queue<JobData>(ENRICHMENT_QUEUE_NAME, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, priority: ENRICHMENT_JOB_PRIORITY },
    });
    this.worker = new Worker<JobData>(ENRICHMENT_QUEUE_NAME, null, {
      connection: options.connection,
      prefix: options.prefix,
      autorun: false,
      lockDuration: options.lockDurationMs,
      // A job is returned to the queue once per lost runner; the runner counts that as an attempt.
      maxStalledCount: 3,
    });
    // Without listeners, Node would treat an 'error' event as an uncaught exception.
    this.queue.on('error', (error) => options.logger.error({ err: error, queue: ENRICHMENT_QUEUE_NAME }, 'enrichment queue error'));
    this.worker.on('error', (error) => options.logger.error({ err: error, queue: ENRICHMENT_QUEUE_NAME }, 'enrichment queue error'));
  }

  async enqueue(request: EnrichmentRequest): Promise<void> {
    const data: JobData = { ...request, attempt: 1, pending: null, lastError: null };
    // BullMQ ignores an add whose job id already exists, which makes this idempotent.
    await this.queue.add('enrich', data, { jobId: enrichmentJobId(request.eventId, request.task) });
  }

  async claim(options: { readonly leaseMs: number }): Promise<EnrichmentJob | null> {
    if (!this.stalledCheckStarted) {
      this.stalledCheckStarted = true;
      await this.worker.startStalledCheckTimer();
    }
    const token = randomUUID();
    const job = (await this.worker.getNextJob(token, { block: false })) as Job<JobData> | undefined;
    if (job?.id === undefined) return null;
    await job.extendLock(token, options.leaseMs);
    this.claimed.set(token, job);

    // stalledCounter grows each time BullMQ's stalled check returns a job whose runner died.
    const attempt = job.data.attempt + job.stalledCounter;
    return {
      id: job.id,
      eventId: job.data.eventId,
      eventType: job.data.eventType,
      task: job.data.task,
      account: job.data.account,
      attempt,
      pending: job.data.pending,
      leaseToken: token,
    };
  }

  async complete(job: EnrichmentJob): Promise<void> {
    const claimedJob = this.take(job);
    await this.guardLease(job, () => claimedJob.moveToCompleted('done', job.leaseToken, false));
  }

  async retry(job: EnrichmentJob, request: { readonly delayMs: number; readonly error: string }): Promise<void> {
    const claimedJob = this.take(job);
    await this.guardLease(job, async () => {
      await claimedJob.updateData({ ...claimedJob.data, attempt: claimedJob.data.attempt + 1, lastError: request.error });
      await claimedJob.moveToDelayed(Date.now() + Math.max(0, request.delayMs), job.leaseToken);
    });
  }

  async waitUntil(job: EnrichmentJob, request: { readonly dueAtMs: number; readonly pending: PendingProviderTask }): Promise<void> {
    const claimedJob = this.take(job);
    await this.guardLease(job, async () => {
      await claimedJob.updateData({ ...claimedJob.data, pending: request.pending });
      await claimedJob.moveToDelayed(request.dueAtMs, job.leaseToken);
    });
  }

  async count(): Promise<number> {
    const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
    return Object.values(counts).reduce((sum, value) => sum + value, 0);
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }

  private take(job: EnrichmentJob): Job<JobData> {
    const claimedJob = this.claimed.get(job.leaseToken);
    if (claimedJob === undefined) throw new LeaseLostError(job.eventId);
    this.claimed.delete(job.leaseToken);
    return claimedJob;
  }

  // BullMQ rejects a move with "Missing lock" or "not in the active state" once another runner
  // has taken the job. That is the same situation as a lost lease in the SQLite queue.
  private async guardLease(job: EnrichmentJob, move: () => Promise<unknown>): Promise<void> {
    try {
      await move();
    } catch (error) {
      if (error instanceof Error && /lock|not in the active state/i.test(error.message)) {
        throw new LeaseLostError(job.eventId);
      }
      throw error;
    }
  }
}
