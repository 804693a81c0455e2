import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, NotFoundError } from '../../src/errors.js';
import { claimJob, expectTimeBetween, timeUnitOf, useBackend, type BackendFactory } from './backend.js';
import { sampleDecision, sampleEvent } from './samples.js';

/** Job queue behaviour every backend must show: claims, outcomes, dead letters and replay. */
export function describeJobQueueContract(name: string, factory: BackendFactory): void {
  describe(`${name}: job queue`, () => {
    const backend = useBackend(factory);
    const unit = (): number => timeUnitOf(backend());

    describe('when claiming', () => {
      it('resolves null when nothing is due', async () => {
        expect(await backend().queue.claim({ leaseMs: 10 * unit() })).toBeNull();
      });

      it('moves the event to processing', async () => {
        const { events, queue, clock } = backend();
        const event = sampleEvent({ account: 'acct_1QfakeCoNNectAcc' });
        await events.ingest(event);
        const leaseMs = 10 * unit();

        const before = clock.now();
        const job = await claimJob(queue, leaseMs);
        const after = clock.now();

        expect(job.id).toBe(event.id);
        expect(job.type).toBe(event.type);
        expect(job.created).toBe(event.created);
        expect(job.livemode).toBe(event.livemode);
        expect(job.account).toBe('acct_1QfakeCoNNectAcc');
        expect(job.payload).toBe(event.payload);
        expect(job.attempt).toBe(1);
        expect(job.leaseToken).not.toBe('');
        expectTimeBetween(job.leaseExpiresAt, before + leaseMs, after + leaseMs);
        const record = await events.get(event.id);
        expect(record?.status).toBe('processing');
        expect(record?.attempts).toBe(1);
      });

      it('returns due jobs in order of due time', async () => {
        const { events, queue } = backend();
        const first = sampleEvent();
        const second = sampleEvent();
        const third = sampleEvent();
        await events.ingest(first);
        await backend().sleepOrAdvance(unit());
        await events.ingest(second);
        const firstJob = await claimJob(queue, 100 * unit());
        expect(firstJob.id).toBe(first.id);
        // The retry of the first event falls due after the third event arrives.
        await queue.retry(firstJob, { error: 'Error: upstream timeout', delayMs: 5 * unit(), decision: null });
        await backend().sleepOrAdvance(unit());
        await events.ingest(third);
        await backend().sleepOrAdvance(10 * unit());

        const order: string[] = [];
        for (let index = 0; index < 3; index += 1) order.push((await claimJob(queue, 100 * unit())).id);

        expect(order).toEqual([second.id, third.id, first.id]);
        expect(await queue.claim({ leaseMs: 100 * unit() })).toBeNull();
      });

      it('never returns one job to two concurrent claims', async () => {
        const { events, queue } = backend();
        const ids = new Set<string>();
        for (let index = 0; index < 5; index += 1) {
          const event = sampleEvent();
          ids.add(event.id);
          await events.ingest(event);
        }

        const jobs = await Promise.all(Array.from({ length: 12 }, () => queue.claim({ leaseMs: 100 * unit() })));

        const claimed = jobs.flatMap((job) => (job === null ? [] : [job.id]));
        expect(claimed).toHaveLength(5);
        expect(new Set(claimed)).toEqual(ids);
      });
    });

    describe('when an attempt ends', () => {
      it('complete marks the event processed', async () => {
        const { events, queue, clock } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const job = await claimJob(queue, 10 * unit());
        const decision = sampleDecision({ aiTask: 'fraud_risk_assessment', requiresAi: true, priority: 'high' });

        const before = clock.now();
        await queue.complete(job, decision);
        const after = clock.now();

        const record = await events.get(event.id);
        expect(record?.status).toBe('processed');
        expect(record?.decision).toEqual(decision);
        expect(record?.attempts).toBe(1);
        expect(record?.nextAttemptAt).toBeNull();
        expectTimeBetween(record?.processedAt ?? null, before, after);
        expect(await queue.claim({ leaseMs: 10 * unit() })).toBeNull();
      });

      it('retry schedules the next attempt', async () => {
        const { events, queue, clock } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const job = await claimJob(queue, 100 * unit());
        const delayMs = 5 * unit();
        const decision = sampleDecision();

        const before = clock.now();
        await queue.retry(job, { error: 'Error: ledger database timed out', delayMs, decision });
        const after = clock.now();

        const record = await events.get(event.id);
        expect(record?.status).toBe('failed');
        expect(record?.lastError).toBe('Error: ledger database timed out');
        expect(record?.decision).toEqual(decision);
        expectTimeBetween(record?.nextAttemptAt ?? null, before + delayMs, after + delayMs);
        expect(await queue.claim({ leaseMs: 100 * unit() })).toBeNull();

        await backend().sleepOrAdvance(delayMs + unit());
        const again = await claimJob(queue, 100 * unit());
        expect(again.id).toBe(event.id);
        expect(again.attempt).toBe(2);
        expect((await events.get(event.id))?.attempts).toBe(2);
      });

      it('complete clears an earlier error', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const failure = 'Error: connect ECONNREFUSED 127.0.0.1:5432';
        await queue.retry(await claimJob(queue, 10 * unit()), { error: failure, delayMs: 0, decision: null });
        expect((await events.get(event.id))?.lastError).toBe(failure);

        await queue.complete(await claimJob(queue, 10 * unit()), sampleDecision());

        const record = await events.get(event.id);
        expect(record?.status).toBe('processed');
        expect(record?.attempts).toBe(2);
        expect(record?.lastError).toBeNull();
      });

      it('deadLetter moves the event to the dead letters', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const job = await claimJob(queue, 10 * unit());

        await queue.deadLetter(job, { error: 'NonRetryableError (non_retryable): unsupported currency', decision: null });

        const record = await events.get(event.id);
        expect(record?.status).toBe('dead');
        expect(record?.lastError).toBe('NonRetryableError (non_retryable): unsupported currency');
        expect(record?.nextAttemptAt).toBeNull();
        const deadLetters = await queue.listDeadLetters(10);
        expect(deadLetters.map((letter) => letter.id)).toEqual([event.id]);
        expect(deadLetters[0]?.status).toBe('dead');
        expect(deadLetters[0]?.payload).toBe(event.payload);
        expect(await queue.claim({ leaseMs: 10 * unit() })).toBeNull();
      });

      it('listDeadLetters honours the limit', async () => {
        const { events, queue } = backend();
        for (let index = 0; index < 3; index += 1) {
          await events.ingest(sampleEvent());
          await queue.deadLetter(await claimJob(queue, 10 * unit()), { error: 'Error: poison', decision: null });
        }

        expect(await queue.listDeadLetters(2)).toHaveLength(2);
        expect(await queue.listDeadLetters(10)).toHaveLength(3);
      });
    });

    describe('when replaying', () => {
      it('queues a dead event again', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.retry(await claimJob(queue, 10 * unit()), { error: 'Error: first', delayMs: 0, decision: null });
        await queue.deadLetter(await claimJob(queue, 10 * unit()), { error: 'Error: second', decision: null });

        const replayed = await queue.replay(event.id);

        expect(replayed.id).toBe(event.id);
        expect(replayed.status).toBe('received');
        expect(replayed.attempts).toBe(0);
        expect(await events.get(event.id)).toMatchObject({ status: 'received', attempts: 0 });
        expect(await queue.listDeadLetters(10)).toEqual([]);
        const job = await claimJob(queue, 10 * unit());
        expect(job.id).toBe(event.id);
        expect(job.attempt).toBe(1);
      });

      it('keeps the error until completion', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const failure = 'Error: connect ECONNREFUSED 127.0.0.1:5432';
        await queue.deadLetter(await claimJob(queue, 10 * unit()), { error: failure, decision: null });

        const replayed = await queue.replay(event.id);
        expect(replayed.lastError).toBe(failure);
        await queue.complete(await claimJob(queue, 10 * unit()), sampleDecision());

        const record = await events.get(event.id);
        expect(record?.status).toBe('processed');
        expect(record?.attempts).toBe(1);
        expect(record?.lastError).toBeNull();
      });

      it('queues a failed event at once', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.retry(await claimJob(queue, 10 * unit()), { error: 'Error: timeout', delayMs: 1000 * unit(), decision: null });

        const replayed = await queue.replay(event.id);

        expect(replayed.status).toBe('received');
        expect(replayed.attempts).toBe(0);
        expect((await claimJob(queue, 10 * unit())).id).toBe(event.id);
      });

      it('rejects a processed event', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.complete(await claimJob(queue, 10 * unit()), sampleDecision());

        await expect(queue.replay(event.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect((await events.get(event.id))?.status).toBe('processed');
      });

      it('rejects a received event', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);

        await expect(queue.replay(event.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect((await claimJob(queue, 10 * unit())).attempt).toBe(1);
      });

      it('rejects a processing event', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await claimJob(queue, 10 * unit());

        await expect(queue.replay(event.id)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect(await events.get(event.id)).toMatchObject({ status: 'processing', attempts: 1 });
      });

      it('rejects an unknown id', async () => {
        await expect(backend().queue.replay('evt_never_seen')).rejects.toBeInstanceOf(NotFoundError);
      });
    });
  });
}
