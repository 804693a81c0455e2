import { randomUUID } from 'node:crypto';
import type { Decision } from '../../decision/types.js';
import { describeError } from '../../errors.js';
import type { ClaimedJob, DeadLetterRequest, EventRecord, EventStatus, JobQueue, RetryRequest } from '../ports.js';
import { guardRedis } from './connection.js';
import type { EventJob, JobConsumer } from './consumer.js';
import type { StoreContext } from './context.js';
import { readRecords, assertLimit } from './event-store.js';
import { confirmQueued } from './ingest.js';
import { jobIdFor } from './keys.js';
import { claimScript, extendLeaseScript } from './scripts/claim.js';
import { errorForCode, SCRIPT_CODES, transitionKeys } from './scripts/codes.js';
import { completeScript, deadLetterScript, releaseScript, retryScript } from './scripts/finish.js';
import { replayScript } from './scripts/replay.js';
import { pairsToObject, replyArray, replyCode, type RedisScript, type ScriptArgument } from './scripts/script.js';
import { toEventRecord } from './record.js';

/** Stale jobs (of finished or expired events) a claim drops before it gives up for this call. */
const MAX_STALE_JOBS_PER_CLAIM = 100;

/**
 * Job queue of the distributed backend. BullMQ decides which job is due, and its job lock is the
 * lease. The event record, changed by one Lua script per transition, is the authority on the
 * event's state.
 *
 * Every operation changes the record first and moves the BullMQ job second. If the process dies
 * in between, the job keeps a lock that nobody renews. Once the lock expires, BullMQ's stalled
 * checker moves the job back to waiting. The next claim then runs it again if the record is
 * unfinished, or drops it if the record is processed or dead.
 */
export class RedisJobQueue implements JobQueue {
  private readonly context: StoreContext;
  private readonly consumer: JobConsumer;
  /** BullMQ jobs this process holds, by lease token, so finishing one needs no extra read. */
  private readonly held = new Map<string, EventJob>();

  constructor(context: StoreContext, consumer: JobConsumer) {
    this.context = context;
    this.consumer = consumer;
  }

  claim(options: { leaseMs: number }): Promise<ClaimedJob | null> {
    return guardRedis(this.context, 'claim a job', {}, async () => {
      assertDuration('leaseMs', options.leaseMs, 1);
      for (let stale = 0; stale < MAX_STALE_JOBS_PER_CLAIM; stale++) {
        const token = randomUUID();
        const job = await this.consumer.next(token, options.leaseMs);
        if (job === undefined) return null;
        const claimed = await this.claimRecord(job, token, options.leaseMs);
        if (claimed !== null) return claimed;
      }
      return null;
    });
  }

  extendLease(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    return guardRedis(this.context, 'extend a lease', { eventId: job.id, attempt: job.attempt }, async () => {
      assertDuration('leaseMs', leaseMs, 1);
      const bullJob = await this.findJob(job);
      // The BullMQ lock is the lease: once it is gone the stalled checker may hand the job out.
      if (bullJob === undefined || (await bullJob.extendLock(job.leaseToken, leaseMs)) !== 1) return false;
      const leaseExpiresAt = this.context.clock() + leaseMs;
      const reply = await extendLeaseScript.run(this.context.redis, [this.context.keys.event(job.id)], [job.leaseToken, leaseExpiresAt]);
      return replyCode(extendLeaseScript, replyArray(extendLeaseScript, reply)) === SCRIPT_CODES.ok;
    });
  }

  complete(job: ClaimedJob, decision: Decision): Promise<void> {
    return this.finish(
      job,
      'processed',
      completeScript,
      (now) => [job.id, now, job.leaseToken, JSON.stringify(decision), this.context.retentionMs],
      (bullJob) => bullJob.moveToCompleted(null, job.leaseToken, false),
    );
  }

  async retry(job: ClaimedJob, request: RetryRequest): Promise<void> {
    assertDuration('delayMs', request.delayMs, 0);
    await this.finish(
      job,
      'failed',
      retryScript,
      (now) => {
        const nextAttemptAt = now + request.delayMs;
        return [job.id, now, job.leaseToken, request.error, decisionArgument(request.decision), nextAttemptAt, this.context.retentionMs];
      },
      // BullMQ schedules by the real clock, whatever clock the store was given.
      (bullJob) => bullJob.moveToDelayed(Date.now() + request.delayMs, job.leaseToken),
    );
  }

  deadLetter(job: ClaimedJob, request: DeadLetterRequest): Promise<void> {
    const { keys } = this.context;
    return this.finish(
      job,
      'dead',
      deadLetterScript,
      (now) => [job.id, now, job.leaseToken, request.error, decisionArgument(request.decision), this.context.retentionMs],
      // removeOnFail deletes the job; the record stays on the dead-letter list.
      (bullJob) => bullJob.moveToFailed(new Error(request.error), job.leaseToken, false),
      [keys.deadLetters, keys.sequence],
    );
  }

  async release(job: ClaimedJob, delayMs: number): Promise<void> {
    assertDuration('delayMs', delayMs, 0);
    await this.finish(
      job,
      'received',
      releaseScript,
      (now) => [job.id, now, job.leaseToken, now + delayMs, this.context.retentionMs],
      (bullJob) => {
        if (delayMs === 0) return bullJob.moveToWait(job.leaseToken);
        return bullJob.moveToDelayed(Date.now() + delayMs, job.leaseToken);
      },
    );
  }

  listDeadLetters(limit: number): Promise<EventRecord[]> {
    return guardRedis(this.context, 'list dead letters', {}, async () => {
      assertLimit(limit);
      if (limit === 0) return [];
      const ids = await this.context.redis.zrevrange(this.context.keys.deadLetters, 0, limit - 1);
      return readRecords(this.context, ids);
    });
  }

  replay(eventId: string): Promise<EventRecord> {
    return guardRedis(this.context, 'replay an event', { eventId }, async () => {
      const { keys, clock, logger } = this.context;
      const now = clock();
      const deadline = now + this.context.enqueueGraceMs;
      const reply = await this.runTransition(replayScript, eventId, [keys.deadLetters, keys.unqueued], [eventId, now, this.context.retentionMs, deadline]);
      const failure = errorForCode(replyCode(replayScript, reply), reply[1], { eventId, to: 'received' });
      if (failure !== null) throw failure;

      const record = toEventRecord(pairsToObject(reply.slice(2)), logger);
      if (record === null) throw new TypeError(`Event ${eventId} has no readable record in Redis after its replay.`);
      await this.context.producer.makeDue(eventId, record.type, { promoteDelayed: true });
      await confirmQueued(this.context, eventId, deadline);
      logger.info({ eventId, eventType: record.type, from: reply[1] }, 'event replayed');
      return record;
    });
  }

  /** Moves the record of a job BullMQ handed out to `processing`; null when the job was stale. */
  private async claimRecord(job: EventJob, token: string, leaseMs: number): Promise<ClaimedJob | null> {
    const { clock, logger } = this.context;
    const eventId = job.data.eventId;
    const now = clock();
    const leaseExpiresAt = now + leaseMs;
    const reply = await this.runTransition(claimScript, eventId, [], [eventId, now, token, leaseExpiresAt, this.context.retentionMs]);
    const code = replyCode(claimScript, reply);

    if (code !== SCRIPT_CODES.ok) {
      // The record finished (the process died between the record and the job update) or expired.
      const reason =
        code === SCRIPT_CODES.finished
          ? `event already ${String(reply[1])}`
          : describeError(errorForCode(code, reply[1], { eventId, to: 'processing' }));
      logger.warn({ eventId, reason }, 'stale job dropped');
      await this.settleJob(eventId, () => job.moveToCompleted(null, token, false));
      return null;
    }

    const claimed: ClaimedJob = {
      id: eventId,
      type: stringAt(reply, 2),
      created: Number(stringAt(reply, 3)),
      livemode: reply[4] === '1',
      account: typeof reply[5] === 'string' ? reply[5] : null,
      payload: stringAt(reply, 6),
      attempt: Number(stringAt(reply, 7)),
      leaseToken: token,
      leaseExpiresAt: new Date(leaseExpiresAt),
    };
    this.held.set(token, job);

    if (job.deferredFailure !== undefined && job.deferredFailure !== '') {
      // BullMQ flags a job whose lock expired more than maxStalledCount times: its worker most
      // likely crashed on it each time, so it goes to the dead letters instead of crashing another.
      const stalledCount = job.stalledCounter;
      const error = `The job's lease expired ${stalledCount} times without a result; a worker probably crashed while processing it.`;
      await this.deadLetter(claimed, { error, decision: null });
      logger.error({ eventId, eventType: claimed.type, attempt: claimed.attempt, stalledCount }, 'event dead-lettered after repeated lease expiries');
      return null;
    }
    return claimed;
  }

  /** Runs a finishing transition on the record, then moves the BullMQ job to match. */
  private finish(
    job: ClaimedJob,
    to: EventStatus,
    script: RedisScript,
    argumentsAt: (now: number) => ScriptArgument[],
    moveJob: (bullJob: EventJob) => Promise<unknown>,
    extraKeys: readonly string[] = [],
  ): Promise<void> {
    return guardRedis(this.context, `move the event to ${to}`, { eventId: job.id, attempt: job.attempt }, async () => {
      const bullJob = await this.findJob(job);
      try {
        const reply = await this.runTransition(script, job.id, extraKeys, argumentsAt(this.context.clock()));
        const failure = errorForCode(replyCode(script, reply), reply[1], { eventId: job.id, to });
        if (failure !== null) throw failure;
      } finally {
        this.held.delete(job.leaseToken);
      }
      if (bullJob !== undefined) await this.settleJob(job.id, () => moveJob(bullJob));
    });
  }

  /**
   * Moves a BullMQ job after its record changed. A failure here is logged, not raised: the record
   * already holds the outcome, and a job left active without a renewed lock returns through the
   * stalled checker, after which the next claim drops or reruns it according to the record.
   */
  private async settleJob(eventId: string, move: () => Promise<unknown>): Promise<void> {
    try {
      await move();
    } catch (error) {
      const message = 'updating the bullmq job failed after the event was recorded; the stalled checker will return it';
      this.context.logger.warn({ eventId, err: describeError(error) }, message);
    }
  }

  /** Runs a transition script with the prelude's key layout for `eventId`, then `extraKeys`. */
  private async runTransition(script: RedisScript, eventId: string, extraKeys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown[]> {
    const { keys, redis } = this.context;
    const scriptKeys = [...transitionKeys({ event: keys.event(eventId), statuses: keys.statuses, expiry: keys.expiry }), ...extraKeys];
    return replyArray(script, await script.run(redis, scriptKeys, args));
  }

  private async findJob(job: ClaimedJob): Promise<EventJob | undefined> {
    const known = this.held.get(job.leaseToken);
    if (known !== undefined) return known;
    // Another queue object in this process, or a new one after a restart, claimed this job.
    return this.context.producer.queue.getJob(jobIdFor(job.id));
  }
}

function decisionArgument(decision: Decision | null): string {
  return decision === null ? '' : JSON.stringify(decision);
}

function stringAt(reply: readonly unknown[], index: number): string {
  const value = reply[index];
  if (typeof value !== 'string') {
    throw new TypeError(`The Redis script "claim" returned no string at position ${index}.`);
  }
  return value;
}

function assertDuration(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(`${name} should be a whole number of milliseconds, at least ${minimum}, got ${value}`);
  }
}
