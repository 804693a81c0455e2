import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSample } from '../../src/samples/fixtures.js';
import { createWorker } from '../../src/service.js';
import { createSilentLogger } from '../../src/logger.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';

const DAY_MS = 86_400_000;

function idOf(raw: string): string {
  return (JSON.parse(raw) as { id: string }).id;
}

describe('embedded store retention', () => {
  let test: TestBackend;

  beforeEach(async () => {
    test = await openTestBackend({ manualTime: true, env: { EVENT_RETENTION_DAYS: '7', MAX_RETRIES: '0' } });
  });

  afterEach(async () => {
    await test.close();
  });

  it('prunes old processed events and keeps the rest', async () => {
    const { backend, config } = test;
    const clock = test.clock!;
    const worker = createWorker({ config, backend, logger: createSilentLogger(), clock: clock.now });
    const old = readSample('charge.succeeded.json').raw;
    const poison = readSample('customer.created.json').raw;
    await test.ingest(poison);
    const claimed = await backend.queue.claim({ leaseMs: 1000 });
    await backend.queue.deadLetter(claimed!, { error: 'test: handler rejected the event', decision: null });
    await test.ingest(old);
    await worker.processNext();
    expect((await backend.events.get(idOf(old)))?.status).toBe('processed');
    expect((await backend.events.get(idOf(poison)))?.status).toBe('dead');

    clock.advance(8 * DAY_MS);
    const recent = readSample('payment_intent.succeeded.json').raw;
    await test.ingest(recent);
    await worker.processNext();

    expect(await backend.runMaintenance?.()).toEqual({ prunedEvents: 1 });
    expect(await backend.events.get(idOf(old))).toBeNull();
    expect((await backend.events.get(idOf(poison)))?.status).toBe('dead');
    expect((await backend.events.get(idOf(recent)))?.status).toBe('processed');
  });

  it('applies nothing twice when a pruned event is delivered again', async () => {
    const { backend, config } = test;
    const clock = test.clock!;
    const worker = createWorker({ config, backend, logger: createSilentLogger(), clock: clock.now });
    const raw = readSample('checkout.session.completed.card_paid.json').raw;
    await test.ingest(raw);
    await worker.processNext();
    clock.advance(8 * DAY_MS);
    await backend.runMaintenance?.();

    expect((await test.ingest(raw)).kind).toBe('accepted');
    await worker.processNext();

    expect((await backend.events.get(idOf(raw)))?.status).toBe('processed');
    const paidMessages = await backend.ledger.selectFrom('ledger_outbox').select('id').where('topic', '=', 'order.paid').execute();
    expect(paidMessages).toHaveLength(1);
    const markers = await backend.ledger.selectFrom('ledger_applied_events').select('event_id').execute();
    expect(markers).toHaveLength(1);
  });
});
