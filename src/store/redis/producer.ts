import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Priority } from '../../decision/types.js';
import type { Logger } from '../../logger.js';
import { reportErrorsEvery } from './connection.js';
import { jobIdFor, QUEUE_NAME } from './keys.js';

/** Data of a BullMQ job: only the event id, because the record stores the payload. */
export interface EventJobData {
  readonly eventId: string;
}

/**
 * BullMQ priorities for the pipeline's priority levels (lower runs first). Jobs added without a
 * priority go to BullMQ's plain FIFO list and run before all prioritized jobs, so the store either
 * prioritizes every job (when `priorityForType` is set) or none.
 */
export const BULLMQ_PRIORITIES: Readonly<Record<Priority, number>> = { urgent: 1, high: 2, normal: 3, low: 4 };

/** Entries kept in BullMQ's event stream, which nothing in the pipeline reads. */
const EVENT_STREAM_MAX_LENGTH = 1000;

/**
 * The producer side of the queue: adds one BullMQ job per event, with a job id derived from the
 * event id (see `jobIdFor`). Adding an id that exists is a no-op in BullMQ, so every call here is
 * safe to repeat. Finished jobs are removed at once (`removeOnComplete`, `removeOnFail`): the
 * event record is the history, and a kept job would both cost memory and make a later add of the
 * same id (a replay) do nothing.
 */
export class JobProducer {
  readonly queue: Queue<EventJobData>;
  private readonly priorityForType: ((eventType: string) => Priority) | undefined;
  private readonly logger: Logger;

  constructor(options: { redis: Redis; prefix: string; logger: Logger; priorityForType?: ((eventType: string) => Priority) | undefined }) {
    this.queue = new Queue<EventJobData>(QUEUE_NAME, {
      connection: options.redis,
      prefix: options.prefix,
      streams: { events: { maxLen: EVENT_STREAM_MAX_LENGTH } },
    });
    this.priorityForType = options.priorityForType;
    this.logger = options.logger;
    this.queue.on('error', reportErrorsEvery(this.logger, 'bullmq queue reported an error', 30_000));
  }

  /** Adds the event's job, due now; does nothing if the job exists. */
  async add(eventId: string, eventType: string): Promise<void> {
    await this.queue.add(eventType, { eventId }, this.jobOptions(eventId, eventType));
  }

  /**
   * Makes sure the event has a job, for a replay or the sweeper. A missing or finished job is
   * added again. A delayed one (a pending retry) is promoted when `promoteDelayed` is set. A
   * waiting or active one is left alone.
   */
  async makeDue(eventId: string, eventType: string, options: { promoteDelayed: boolean }): Promise<void> {
    const existing = await this.queue.getJob(jobIdFor(eventId));
    if (existing === undefined) {
      await this.add(eventId, eventType);
      return;
    }
    const state = await existing.getState();
    switch (state) {
      case 'delayed':
        if (options.promoteDelayed) await existing.promote();
        return;
      case 'completed':
      case 'failed':
        await existing.remove();
        await this.add(eventId, eventType);
        return;
      case 'unknown':
        await this.add(eventId, eventType);
        return;
      case 'waiting':
      case 'prioritized':
      case 'active':
      case 'waiting-children':
        // The job will run, or is running, already.
        this.logger.debug({ eventId, eventType, jobState: state }, 'job already queued; left as it is');
        return;
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private jobOptions(eventId: string, eventType: string): JobsOptions {
    const options: JobsOptions = { jobId: jobIdFor(eventId), removeOnComplete: true, removeOnFail: true };
    if (this.priorityForType !== undefined) options.priority = BULLMQ_PRIORITIES[this.priorityForType(eventType)];
    return options;
  }
}
