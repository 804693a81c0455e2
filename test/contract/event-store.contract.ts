import { describe, expect, it } from 'vitest';
import { EVENT_STATUSES } from '../../src/store/ports.js';
import { claimJob, expectTimeBetween, timeUnitOf, useBackend, type BackendFactory } from './backend.js';
import { fixtureEvent, sampleDecision, sampleEvent } from './samples.js';

/** Event store behaviour every backend must show: ingest, duplicates, reads and counts. */
export function describeEventStoreContract(name: string, factory: BackendFactory): void {
  describe(`${name}: event store`, () => {
    const backend = useBackend(factory);

    describe('when an event is ingested', () => {
      it('records it as received', async () => {
        const { events, clock } = backend();
        const event = fixtureEvent('charge.succeeded.json');

        const before = clock.now();
        const outcome = await events.ingest(event);
        const after = clock.now();

        expect(outcome).toEqual({ kind: 'accepted' });
        const record = await events.get(event.id);
        expect(record).not.toBeNull();
        expect(record?.status).toBe('received');
        expect(record?.attempts).toBe(0);
        expect(record?.payload).toBe(event.payload);
        expect(record?.id).toBe(event.id);
        expect(record?.type).toBe(event.type);
        expect(record?.created).toBe(event.created);
        expect(record?.livemode).toBe(event.livemode);
        expect(record?.account).toBeNull();
        expect(record?.lastError).toBeNull();
        expect(record?.decision).toBeNull();
        expect(record?.processedAt).toBeNull();
        expectTimeBetween(record?.receivedAt ?? null, before, after);
        expectTimeBetween(record?.updatedAt ?? null, before, after);
        expectTimeBetween(record?.nextAttemptAt ?? null, before, after);
      });

      it('keeps the payload bytes exactly', async () => {
        const { events } = backend();
        const event = sampleEvent();

        await events.ingest(event);

        const record = await events.get(event.id);
        expect(record?.payload).toBe(event.payload);
        expect(Buffer.from(record?.payload ?? '', 'utf8').equals(Buffer.from(event.payload, 'utf8'))).toBe(true);
      });

      it('keeps Connect and livemode fields', async () => {
        const { events } = backend();
        const event = sampleEvent({ account: 'acct_1QfakeCoNNectAcc', livemode: true, created: 1_786_000_001 });

        await events.ingest(event);

        const record = await events.get(event.id);
        expect(record?.account).toBe('acct_1QfakeCoNNectAcc');
        expect(record?.livemode).toBe(true);
        expect(record?.created).toBe(1_786_000_001);
      });

      it('enqueues its job in the same step', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();

        await events.ingest(event);
        const job = await queue.claim({ leaseMs: 10 * timeUnitOf(backend()) });

        expect(job?.id).toBe(event.id);
        expect(job?.payload).toBe(event.payload);
      });
    });

    describe('when an event id is ingested again', () => {
      it('returns duplicate and changes nothing', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.claim({ leaseMs: 10 * timeUnitOf(backend()) });
        const before = await events.get(event.id);

        const outcome = await events.ingest({ ...event, type: 'charge.refunded', payload: '{"changed":true}' });

        expect(outcome).toEqual({ kind: 'duplicate', status: 'processing' });
        expect(await events.get(event.id)).toEqual(before);
      });

      it('does not enqueue a processed event again', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();
        await events.ingest(event);
        await queue.complete(await claimJob(queue, 10 * timeUnitOf(backend())), sampleDecision());

        const outcome = await events.ingest(event);

        expect(outcome).toEqual({ kind: 'duplicate', status: 'processed' });
        expect(await queue.claim({ leaseMs: 10 * timeUnitOf(backend()) })).toBeNull();
      });

      it('accepts exactly one of 20 concurrent ingests', async () => {
        const { events, queue } = backend();
        const event = sampleEvent();

        const outcomes = await Promise.all(Array.from({ length: 20 }, () => events.ingest(event)));

        expect(outcomes.filter((outcome) => outcome.kind === 'accepted')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome.kind === 'duplicate')).toHaveLength(19);
        const leaseMs = 10 * timeUnitOf(backend());
        expect((await queue.claim({ leaseMs }))?.id).toBe(event.id);
        expect(await queue.claim({ leaseMs })).toBeNull();
      });
    });

    describe('when reading events', () => {
      it('get returns null for an unknown id', async () => {
        expect(await backend().events.get('evt_unknown')).toBeNull();
      });

      it('list returns newest first', async () => {
        const { events } = backend();
        const ids: string[] = [];
        for (let index = 0; index < 3; index += 1) {
          const event = sampleEvent();
          ids.push(event.id);
          await events.ingest(event);
          await backend().sleepOrAdvance(timeUnitOf(backend()));
        }

        const listed = await events.list({ limit: 10 });

        expect(listed.map((record) => record.id)).toEqual([...ids].reverse());
      });

      it('list honours the limit', async () => {
        const { events } = backend();
        const ids: string[] = [];
        for (let index = 0; index < 4; index += 1) {
          const event = sampleEvent();
          ids.push(event.id);
          await events.ingest(event);
          await backend().sleepOrAdvance(timeUnitOf(backend()));
        }

        const listed = await events.list({ limit: 2 });

        expect(listed.map((record) => record.id)).toEqual([ids[3], ids[2]]);
      });

      it('list filters by status and type', async () => {
        const { events, queue } = backend();
        const claimed = sampleEvent({ type: 'invoice.paid' });
        const waitingInvoice = sampleEvent({ type: 'invoice.paid' });
        const waitingCharge = sampleEvent({ type: 'charge.succeeded' });
        await events.ingest(claimed);
        await backend().sleepOrAdvance(timeUnitOf(backend()));
        await events.ingest(waitingInvoice);
        await backend().sleepOrAdvance(timeUnitOf(backend()));
        await events.ingest(waitingCharge);
        expect((await queue.claim({ leaseMs: 100 * timeUnitOf(backend()) }))?.id).toBe(claimed.id);

        const ids = async (filter: Parameters<typeof events.list>[0]): Promise<string[]> =>
          (await events.list(filter)).map((record) => record.id);

        expect(await ids({ status: 'processing', limit: 10 })).toEqual([claimed.id]);
        expect(await ids({ status: 'received', limit: 10 })).toEqual([waitingCharge.id, waitingInvoice.id]);
        expect(await ids({ type: 'invoice.paid', limit: 10 })).toEqual([waitingInvoice.id, claimed.id]);
        expect(await ids({ status: 'received', type: 'invoice.paid', limit: 10 })).toEqual([waitingInvoice.id]);
        expect(await ids({ status: 'dead', limit: 10 })).toEqual([]);
        expect(await ids({ type: 'customer.created', limit: 10 })).toEqual([]);
      });
    });

    describe('when counting', () => {
      it('countByStatus counts each status', async () => {
        const { events, queue } = backend();
        const leaseMs = 100 * timeUnitOf(backend());
        const delayMs = 100 * timeUnitOf(backend());
        for (let index = 0; index < 6; index += 1) {
          await events.ingest(sampleEvent());
        }
        await queue.complete(await claimJob(queue, leaseMs), sampleDecision());
        await queue.retry(await claimJob(queue, leaseMs), { error: 'Error: timeout', delayMs, decision: null });
        await queue.deadLetter(await claimJob(queue, leaseMs), { error: 'NonRetryableError: bad data', decision: null });
        await claimJob(queue, leaseMs);

        const counts = await events.countByStatus();

        expect(Object.keys(counts).sort()).toEqual([...EVENT_STATUSES].sort());
        expect(counts).toEqual({ received: 2, processing: 1, processed: 1, failed: 1, dead: 1 });
      });

      it('countByStatus returns zeros when empty', async () => {
        expect(await backend().events.countByStatus()).toEqual({ received: 0, processing: 0, processed: 0, failed: 0, dead: 0 });
      });

      it('ping resolves', async () => {
        await expect(backend().events.ping()).resolves.toBeUndefined();
      });
    });
  });
}
