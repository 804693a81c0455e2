import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import type { Decision } from '../../src/decision/types.js';
import type { StripeEvent } from '../../src/domain/stripe-event.js';
import { LeaseLostError, NonRetryableError } from '../../src/errors.js';
import { applyEvent } from '../../src/ledger/apply.js';
import { lockKeyFor } from '../../src/ledger/lock-key.js';
import { createSilentLogger } from '../../src/logger.js';
import { readSample } from '../../src/samples/fixtures.js';
import { PipelineWorker, type ApplyResult, type JobOutcome, type WorkerDependencies } from '../../src/worker/worker.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';

const PAID_CHECKOUT = readSample('checkout.session.completed.card_paid.json').raw;
const PAID_CHECKOUT_ID = (JSON.parse(PAID_CHECKOUT) as { id: string }).id;

const OPTIONS = {
  concurrency: 1,
  leaseMs: 30_000,
  lockTtlMs: 30_000,
  handlerTimeoutMs: 5_000,
  maxRetries: 3,
  backoffBaseMs: 2_000,
  backoffMaxMs: 60_000,
  pollIntervalMs: 10,
  shutdownGraceMs: 2_000,
};

type Apply = (input: { event: StripeEvent; decision: Decision }) => Promise<ApplyResult>;

function buildWorker(test: TestBackend, overrides: Partial<WorkerDependencies> = {}, outcomes: JobOutcome[] = []): PipelineWorker {
  const { backend } = test;
  return new PipelineWorker({
    queue: backend.queue,
    locks: backend.locks,
    decide,
    decisionContext: { livemode: false, manualReviewAmount: 100_000 },
    lockKeyFor,
    applyEvent: (input) => applyEvent(backend.ledger, input),
    logger: createSilentLogger(),
    clock: test.clock?.now,
    random: () => 0.5,
    options: OPTIONS,
    onOutcome: (outcome) => outcomes.push(outcome),
    ...overrides,
  });
}

async function appliedCount(test: TestBackend, eventId: string): Promise<number> {
  const rows = await test.backend.ledger.selectFrom('ledger_applied_events').select('event_id').where('event_id', '=', eventId).execute();
  return rows.length;
}

async function orderRows(test: TestBackend): Promise<number> {
  const rows = await test.backend.ledger.selectFrom('ledger_orders').selectAll().execute();
  return rows.length;
}

describe('PipelineWorker', () => {
  let test: TestBackend;

  beforeEach(async () => {
    test = await openTestBackend({ manualTime: true });
  });

  afterEach(async () => {
    await test.close();
  });

  it('processes a queued event into the ledger', async () => {
    await test.ingest(PAID_CHECKOUT);
    const outcomes: JobOutcome[] = [];
    const worker = buildWorker(test, {}, outcomes);

    expect(await worker.processNext()).toBe(true);

    const record = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(record?.status).toBe('processed');
    expect(record?.attempts).toBe(1);
    expect(record?.decision?.action).toBe('mark_order_paid');
    expect(await appliedCount(test, PAID_CHECKOUT_ID)).toBe(1);
    expect(await orderRows(test)).toBe(1);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['processed']);
    expect(await worker.processNext()).toBe(false);
  });

  it('retries a throwing handler with backoff, dead-letters it, and replays it once fixed', async () => {
    await test.ingest(PAID_CHECKOUT);
    let broken = true;
    const flaky: Apply = (input) => (broken ? Promise.reject(new Error('ledger database is down')) : applyEvent(test.backend.ledger, input));
    const outcomes: JobOutcome[] = [];
    const worker = buildWorker(test, { applyEvent: flaky }, outcomes);
    const clock = test.clock!;

    // Attempts 1..3 fail and are retried after 2 s, 4 s and 8 s (random 0.5 puts the jitter at 0).
    for (const expectedDelay of [2_000, 4_000, 8_000]) {
      expect(await worker.processNext()).toBe(true);
      const record = await test.backend.events.get(PAID_CHECKOUT_ID);
      expect(record?.status).toBe('failed');
      expect(record?.lastError).toContain('ledger database is down');
      expect(record?.nextAttemptAt?.getTime()).toBe(clock.now() + expectedDelay);

      clock.advance(expectedDelay - 1);
      expect(await worker.processNext()).toBe(false);
      clock.advance(1);
    }

    // Attempt 4 is the last one allowed with maxRetries 3.
    expect(await worker.processNext()).toBe(true);
    const dead = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(dead?.status).toBe('dead');
    expect(dead?.attempts).toBe(4);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['retried', 'retried', 'retried', 'dead_lettered']);
    expect((await test.backend.queue.listDeadLetters(10)).map((record) => record.id)).toEqual([PAID_CHECKOUT_ID]);
    expect(await appliedCount(test, PAID_CHECKOUT_ID)).toBe(0);

    broken = false;
    await test.backend.queue.replay(PAID_CHECKOUT_ID);
    expect(await worker.processNext()).toBe(true);
    const replayed = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(replayed?.status).toBe('processed');
    expect(await appliedCount(test, PAID_CHECKOUT_ID)).toBe(1);
    expect(await orderRows(test)).toBe(1);
  });

  it('dead-letters a non-retryable error at once', async () => {
    await test.ingest(PAID_CHECKOUT);
    const worker = buildWorker(test, { applyEvent: () => Promise.reject(new NonRetryableError('amount_total is missing')) });

    await worker.processNext();

    const record = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(record?.status).toBe('dead');
    expect(record?.attempts).toBe(1);
    expect(record?.lastError).toContain('amount_total is missing');
  });

  it('completes a job exactly once after its first worker died', async () => {
    await test.ingest(PAID_CHECKOUT);
    const clock = test.clock!;

    // The first worker claims the job and dies before finishing: it never reports back.
    const abandoned = await test.backend.queue.claim({ leaseMs: OPTIONS.leaseMs });
    expect(abandoned?.attempt).toBe(1);
    const second = buildWorker(test);
    expect(await second.processNext()).toBe(false);

    clock.advance(OPTIONS.leaseMs + 1);
    expect(await second.processNext()).toBe(true);

    const record = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(record?.status).toBe('processed');
    expect(record?.attempts).toBe(2);
    expect(await appliedCount(test, PAID_CHECKOUT_ID)).toBe(1);
    await expect(test.backend.queue.complete(abandoned!, record!.decision!)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await test.backend.events.get(PAID_CHECKOUT_ID))?.status).toBe('processed');
  });

  it('applies once after a stale worker finishes', async () => {
    await test.ingest(PAID_CHECKOUT);
    const clock = test.clock!;
    let slowApplyStarted = false;
    let releaseSlowApply: () => void = () => undefined;
    const slowApply: Apply = async (input) => {
      slowApplyStarted = true;
      await new Promise<void>((resolve) => {
        releaseSlowApply = resolve;
      });
      return applyEvent(test.backend.ledger, input);
    };
    const outcomes: JobOutcome[] = [];
    const slow = buildWorker(test, { applyEvent: slowApply }, outcomes);
    const slowRun = slow.processNext();
    await waitFor(() => slowApplyStarted);

    // The lease and the lock expire on the manual clock while the slow handler hangs (its
    // keep-alive timer runs every 10 s of real time, so it cannot renew them here), and a
    // second worker takes over.
    clock.advance(Math.max(OPTIONS.leaseMs, OPTIONS.lockTtlMs) + 1);
    const fast = buildWorker(test);
    expect(await fast.processNext()).toBe(true);
    releaseSlowApply();
    await slowRun;

    expect((await test.backend.events.get(PAID_CHECKOUT_ID))?.status).toBe('processed');
    expect(await appliedCount(test, PAID_CHECKOUT_ID)).toBe(1);
    expect(await orderRows(test)).toBe(1);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['lease_lost']);
  });

  it('gives a job back without an attempt while its object is locked', async () => {
    await test.ingest(PAID_CHECKOUT);
    const event = JSON.parse(PAID_CHECKOUT) as StripeEvent;
    const held = await test.backend.locks.acquire(lockKeyFor(event), 60_000);
    expect(held).not.toBeNull();
    const outcomes: JobOutcome[] = [];
    const worker = buildWorker(test, {}, outcomes);

    await worker.processNext();

    const record = await test.backend.events.get(PAID_CHECKOUT_ID);
    expect(record?.status).toBe('received');
    expect(record?.attempts).toBe(0);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['lock_busy']);

    await held!.release();
    test.clock!.advance(1_000);
    await worker.processNext();
    expect((await test.backend.events.get(PAID_CHECKOUT_ID))?.status).toBe('processed');
  });

  it('requests enrichment only after the effect committed, and survives its failure', async () => {
    await test.ingest(readSample('charge.dispute.created.json').raw);
    await test.ingest(PAID_CHECKOUT);
    const requested: string[] = [];
    const worker = buildWorker(test, {
      requestEnrichment: async (request) => {
        requested.push(`${request.eventType}:${request.decision.aiTask}`);
        expect(await appliedCount(test, request.eventId)).toBe(1);
        throw new Error('enrichment queue is full');
      },
    });

    await worker.processNext();
    await worker.processNext();

    expect(requested).toEqual(['charge.dispute.created:dispute_summary']);
    const statuses = await test.backend.events.list({ limit: 10 });
    expect(statuses.map((record) => record.status)).toEqual(['processed', 'processed']);
  });

  it('finishes the job in flight when stopped', async () => {
    await test.ingest(PAID_CHECKOUT);
    let startedApply = false;
    let finishApply: () => void = () => undefined;
    const gatedApply: Apply = async (input) => {
      startedApply = true;
      await new Promise<void>((resolve) => {
        finishApply = resolve;
      });
      return applyEvent(test.backend.ledger, input);
    };
    const worker = buildWorker(test, { applyEvent: gatedApply });
    worker.start();
    await waitFor(() => startedApply);

    const stopped = worker.stop();
    finishApply();
    await stopped;

    expect((await test.backend.events.get(PAID_CHECKOUT_ID))?.status).toBe('processed');
  });
});

/** Polls a condition that another async task makes true; fails the test after 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let index = 0; index < 500; index += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition was not met within 5 s');
}

describe('PipelineWorker with a crash-looping event', () => {
  it('dead-letters a job claimed more often than retries allow', async () => {
    const test = await openTestBackend({ manualTime: true });
    try {
      await test.ingest(PAID_CHECKOUT);
      // Each claim that is never reported stands for a worker that crashed during the attempt.
      for (let attempt = 1; attempt <= OPTIONS.maxRetries + 1; attempt += 1) {
        expect((await test.backend.queue.claim({ leaseMs: OPTIONS.leaseMs }))?.attempt).toBe(attempt);
        test.clock!.advance(OPTIONS.leaseMs + 1);
      }
      let applied = 0;
      const worker = buildWorker(test, {
        applyEvent: () => {
          applied += 1;
          return Promise.resolve({ applied: true, effects: [] });
        },
      });

      await worker.processNext();

      const record = await test.backend.events.get(PAID_CHECKOUT_ID);
      expect(record?.status).toBe('dead');
      expect(record?.lastError).toContain('claimed 5 times without finishing');
      expect(applied).toBe(0);
    } finally {
      await test.close();
    }
  });
});
