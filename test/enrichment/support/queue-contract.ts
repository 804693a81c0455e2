import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseLostError } from '../../../src/errors.js';
import type { EnrichmentJob, EnrichmentQueue, EnrichmentRequest } from '../../../src/enrichment/ports.js';

const LEASE_MS = 30_000;

export function request(eventId: string, task: EnrichmentRequest['task'] = 'dispute_summary'): EnrichmentRequest {
  return { eventId, eventType: 'charge.dispute.created', task, account: null };
}

async function claimOrFail(queue: EnrichmentQueue): Promise<EnrichmentJob> {
  const job = await queue.claim({ leaseMs: LEASE_MS });
  if (job === null) throw new Error('expected a due job, but the queue had none');
  return job;
}

/**
 * Defines the tests every EnrichmentQueue implementation must pass. Only `Date` is faked, because
 * both implementations read the system clock and BullMQ compares due times with `Date.now()`.
 */
export function enrichmentQueueContract(name: string, open: () => Promise<EnrichmentQueue>): void {
  describe(`${name} enrichment queue`, () => {
    let queue: EnrichmentQueue;

    beforeEach(async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-09-01T10:00:00.000Z'));
      queue = await open();
    });
    afterEach(async () => {
      await queue.close();
      vi.useRealTimers();
    });

    function advance(ms: number): void {
      vi.setSystemTime(Date.now() + ms);
    }

    it('enqueues one job per event and task', async () => {
      await queue.enqueue(request('evt_1QueueContract0001'));
      await queue.enqueue(request('evt_1QueueContract0001'));
      await queue.enqueue(request('evt_1QueueContract0001', 'manual_review_triage'));

      expect(await queue.count()).toBe(2);
    });

    it('ignores an enqueue while the job runs', async () => {
      await queue.enqueue(request('evt_1QueueContract0002'));
      const job = await claimOrFail(queue);

      await queue.enqueue(request('evt_1QueueContract0002'));

      expect(await queue.count()).toBe(1);
      expect(await queue.claim({ leaseMs: LEASE_MS })).toBeNull();
      await queue.complete(job);
    });

    it('hands out a claimed job with its request', async () => {
      await queue.enqueue({ eventId: 'evt_1QueueContract0003', eventType: 'review.opened', task: 'manual_review_triage', account: 'acct_1QfakeCoNNectAcc' });

      const job = await claimOrFail(queue);

      expect(job).toMatchObject({
        id: 'evt_1QueueContract0003.manual_review_triage',
        eventId: 'evt_1QueueContract0003',
        eventType: 'review.opened',
        task: 'manual_review_triage',
        account: 'acct_1QfakeCoNNectAcc',
        attempt: 1,
        pending: null,
      });
      expect(await queue.claim({ leaseMs: LEASE_MS })).toBeNull();
    });

    it('removes a completed job and accepts the event again later', async () => {
      await queue.enqueue(request('evt_1QueueContract0004'));
      await queue.complete(await claimOrFail(queue));
      expect(await queue.count()).toBe(0);

      await queue.enqueue(request('evt_1QueueContract0004'));

      expect(await queue.count()).toBe(1);
    });

    it('holds a retried job back until its delay passes', async () => {
      await queue.enqueue(request('evt_1QueueContract0005'));
      await queue.retry(await claimOrFail(queue), { delayMs: 5000, error: 'HTTP 503' });

      advance(4000);
      expect(await queue.claim({ leaseMs: LEASE_MS })).toBeNull();
      advance(1500);
      const again = await claimOrFail(queue);

      expect(again.attempt).toBe(2);
      await queue.complete(again);
    });

    it('parks a waiting job without counting an attempt', async () => {
      await queue.enqueue(request('evt_1QueueContract0006'));
      const job = await claimOrFail(queue);
      const pending = { taskId: 'task_77', startedAtMs: Date.now() };

      await queue.waitUntil(job, { dueAtMs: Date.now() + 5000, pending });

      expect(await queue.count()).toBe(1);
      expect(await queue.claim({ leaseMs: LEASE_MS })).toBeNull();
      advance(5000);
      const polled = await claimOrFail(queue);
      expect(polled).toMatchObject({ attempt: 1, pending });
      await queue.complete(polled);
    });

    it('keeps the pending task across a retry', async () => {
      await queue.enqueue(request('evt_1QueueContract0007'));
      const pending = { taskId: 'task_78', startedAtMs: Date.now() };
      await queue.waitUntil(await claimOrFail(queue), { dueAtMs: Date.now(), pending });
      await queue.retry(await claimOrFail(queue), { delayMs: 0, error: 'HTTP 500' });

      const job = await claimOrFail(queue);

      expect(job).toMatchObject({ attempt: 2, pending });
      await queue.complete(job);
    });

    it('rejects a finish with a lease it does not hold', async () => {
      await queue.enqueue(request('evt_1QueueContract0008'));
      const job = await claimOrFail(queue);

      await expect(queue.complete({ ...job, leaseToken: 'not-the-token' })).rejects.toBeInstanceOf(LeaseLostError);
      await queue.complete(job);
      await expect(queue.complete(job)).rejects.toBeInstanceOf(LeaseLostError);
    });
  });
}
