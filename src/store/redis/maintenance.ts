import { describeError } from '../../errors.js';
import { guardRedis } from './connection.js';
import type { StoreContext } from './context.js';
import { confirmQueued } from './ingest.js';
import { expireIndexesScript } from './scripts/expire.js';
import { takeUnqueuedScript } from './scripts/ingest.js';
import { replyArray, replyCode } from './scripts/script.js';

/** Unqueued entries looked at per sweep, and expired records cleaned per maintenance run. */
const BATCH_SIZE = 500;

/**
 * Background work of the Redis backend, run by the worker process: re-enqueueing events that were
 * recorded but never confirmed in the queue, and removing the index entries of expired records.
 */
export class StoreMaintenance {
  private readonly context: StoreContext;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(context: StoreContext) {
    this.context = context;
  }

  /**
   * Enqueues every event whose ingest or replay wrote the record but did not confirm its job
   * within the enqueue grace period (the process died, or Redis went away, between the two
   * steps). Adding a job that exists changes nothing, so a sweep that races a slow ingest is
   * harmless. Resolves with the number of events enqueued.
   */
  sweepUnqueued(): Promise<number> {
    const { keys, redis, clock, logger, producer } = this.context;
    return guardRedis(this.context, 'sweep unqueued events', {}, async () => {
      const now = clock();
      const due = await redis.zrangebyscore(keys.unqueued, '-inf', now, 'LIMIT', 0, BATCH_SIZE);
      let enqueued = 0;
      for (const eventId of due) {
        const deadline = clock() + this.context.enqueueGraceMs;
        const taken = await takeUnqueuedScript.run(redis, [keys.unqueued, keys.event(eventId)], [eventId, now, deadline]);
        const reply = replyArray(takeUnqueuedScript, taken);
        if (replyCode(takeUnqueuedScript, reply) !== 1) continue;

        const eventType = String(reply[1]);
        const status = String(reply[2]);
        // A `received` event is due now; for a claimed one only a lost job is added back, so a
        // pending retry keeps its delay.
        await producer.makeDue(eventId, eventType, { promoteDelayed: status === 'received' });
        await confirmQueued(this.context, eventId, deadline);
        logger.warn({ eventId, eventType, status }, 'unqueued event enqueued by the sweeper');
        enqueued++;
      }
      return enqueued;
    });
  }

  /** Removes index entries of records that expired; resolves with the number of records. */
  expireIndexes(): Promise<number> {
    const { keys, redis, clock } = this.context;
    return guardRedis(this.context, 'clean the indexes of expired events', {}, async () => {
      const reply = await expireIndexesScript.run(
        redis,
        [keys.expiry, keys.types, keys.all, ...keys.statuses, keys.deadLetters, keys.unqueued],
        [clock(), BATCH_SIZE, keys.event(''), this.context.retentionMs],
      );
      return typeof reply === 'number' ? reply : 0;
    });
  }

  /** Runs both tasks now and then every `intervalMs` until `stop`; a failed run is logged. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.runOnce(), intervalMs);
    this.timer.unref();
    this.runOnce();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private runOnce(): void {
    // Skip a tick while the previous run is still going, so runs never overlap.
    if (this.running !== null) return;
    this.running = this.runTasks().finally(() => {
      this.running = null;
    });
  }

  private async runTasks(): Promise<void> {
    const { logger } = this.context;
    try {
      const enqueued = await this.sweepUnqueued();
      const expired = await this.expireIndexes();
      if (enqueued > 0 || expired > 0) logger.info({ enqueued, expired }, 'redis store maintenance finished');
    } catch (error) {
      logger.error({ err: describeError(error) }, 'redis store maintenance failed; retrying on the next run');
    }
  }
}
