import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, LeaseLostError } from '../../src/errors.js';
import type { ClaimedJob, JobQueue } from '../../src/store/ports.js';
import { claimJob, timeUnitOf, useBackend, type BackendFactory } from './backend.js';
import { sampleDecision, sampleEvent } from './samples.js';

type Ending = 'complete' | 'retry' | 'deadLetter' | 'release';

const ENDINGS: readonly Ending[] = ['complete', 'retry', 'deadLetter', 'release'];

/** Ends an attempt the given way; retries and releases are due far in the future. */
function endAttempt(queue: JobQueue, job: ClaimedJob, ending: Ending, delayMs: number): Promise<void> {
  switch (ending) {
    case 'complete':
      return queue.complete(job, sampleDecision());
    case 'retry':
      return queue.retry(job, { error: 'Error: retry later', delayMs, decision: null });
    case 'deadLetter':
      return queue.deadLetter(job, { error: 'Error: give up', decision: null });
    case 'release':
      return queue.release(job, delayMs);
  }
}

/** Lease and state-machine behaviour every backend must show. */
export function describeLeaseContract(name: string, factory: BackendFactory): void {
  describe(`${name}: leases and transitions`, () => {
    const backend = useBackend(factory);
    const unit = (): number => timeUnitOf(backend());

    describe('when a lease expires', () => {
      it('another worker claims the job again', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const first = await claimJob(queue, 3 * unit());

        await backend().sleepOrAdvance(4 * unit());
        const second = await claimJob(queue, 30 * unit());

        expect(second.id).toBe(event.id);
        expect(second.attempt).toBe(2);
        expect(second.leaseToken).not.toBe(first.leaseToken);
        expect(await events.get(event.id)).toMatchObject({ status: 'processing', attempts: 2 });
      });

      it.each(ENDINGS)('the first worker cannot %s', async (ending) => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const first = await claimJob(queue, 3 * unit());
        await backend().sleepOrAdvance(4 * unit());
        await claimJob(queue, 30 * unit());
        const before = await events.get(event.id);

        await expect(endAttempt(queue, first, ending, 0)).rejects.toBeInstanceOf(LeaseLostError);

        expect(await events.get(event.id)).toEqual(before);
      });

      it('extendLease returns false for the first worker', async () => {
        const { events, queue } = backend();
        await events.ingest(sampleEvent());
        const first = await claimJob(queue, 3 * unit());
        await backend().sleepOrAdvance(4 * unit());
        await claimJob(queue, 30 * unit());

        expect(await queue.extendLease(first, 30 * unit())).toBe(false);
      });

      it('the second worker completes normally', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await claimJob(queue, 3 * unit());
        await backend().sleepOrAdvance(4 * unit());
        const second = await claimJob(queue, 30 * unit());

        await queue.complete(second, sampleDecision());

        expect(await events.get(event.id)).toMatchObject({ status: 'processed', attempts: 2 });
      });
    });

    describe('when a lease is extended', () => {
      it('the job is not claimed again', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const job = await claimJob(queue, 3 * unit());

        await backend().sleepOrAdvance(2 * unit());
        expect(await queue.extendLease(job, 3 * unit())).toBe(true);
        await backend().sleepOrAdvance(2 * unit());

        expect(await queue.claim({ leaseMs: 30 * unit() })).toBeNull();
        await queue.complete(job, sampleDecision());
        expect((await events.get(event.id))?.status).toBe('processed');
      });
    });

    describe('when a job is released', () => {
      it('returns without counting an attempt', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        const job = await claimJob(queue, 30 * unit());

        await queue.release(job, 0);

        expect(await events.get(event.id)).toMatchObject({ status: 'received', attempts: 0 });
        const again = await claimJob(queue, 30 * unit());
        expect(again.id).toBe(event.id);
        expect(again.attempt).toBe(1);
      });

      it('is due again after the delay', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.release(await claimJob(queue, 30 * unit()), 5 * unit());

        expect(await queue.claim({ leaseMs: 30 * unit() })).toBeNull();
        await backend().sleepOrAdvance(6 * unit());

        expect((await claimJob(queue, 30 * unit())).id).toBe(event.id);
      });
    });

    describe('when a transition is not allowed', () => {
      for (const first of ENDINGS) {
        it.each(ENDINGS)(`${first} then %s is rejected`, async (second) => {
          const { events, queue } = backend();
          const event = sampleEvent();
          await events.ingest(event);
          const job = await claimJob(queue, 30 * unit());
          await endAttempt(queue, job, first, 1000 * unit());
          const before = await events.get(event.id);

          await expect(endAttempt(queue, job, second, 1000 * unit())).rejects.toBeInstanceOf(InvalidTransitionError);

          expect(await events.get(event.id)).toEqual(before);
        });
      }
    });
  });
}
