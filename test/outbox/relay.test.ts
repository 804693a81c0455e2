import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/decision/decide.js';
import { applyEvent } from '../../src/ledger/apply.js';
import type { OutboxMessageView } from '../../src/outbox/admin.js';
import { capturingLogger } from '../http/harness.js';
import { openTestBackend, testConfig, type TestBackend } from '../support/embedded-backend.js';
import { loadEventFile } from '../support/journeys.js';
import { ManualClock } from '../support/manual-clock.js';
import { ADMIN_HEADERS, ADMIN_TOKEN, adminApp } from './support/admin-app.js';
import { countByStatus, enqueueMessage, readMessage, TEST_BACKOFF, testRelay } from './support/messages.js';
import { RECEIVER_SECRET, TestReceiver } from './support/receiver.js';

/** The relay on the embedded backend's SQLite ledger, against a receiver on 127.0.0.1. */

let test: TestBackend;
let receiver: TestReceiver;
let clock: ManualClock;

beforeEach(async () => {
  test = await openTestBackend();
  clock = new ManualClock();
  receiver = await TestReceiver.start({ now: clock.now });
});

afterEach(async () => {
  await receiver.close();
  await test.close();
});

const iso = (ms: number): string => new Date(ms).toISOString();

describe('outbox relay delivery', () => {
  it('sends a message and marks it sent', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock, {
      topic: 'refund.recorded',
      account: 'acct_1Test',
      payload: { refund: 're_123', amount: 500, currency: 'usd' },
      eventId: 'evt_refund_1',
    });
    const createdAt = iso(clock.now());
    clock.advance(1500);

    expect(await testRelay(test.backend.ledger, receiver, clock).processBatch()).toEqual({ sent: 1, retried: 0, failed: 0, skipped: 0 });

    expect(receiver.receipts).toHaveLength(1);
    const [receipt] = receiver.receipts;
    expect(receipt?.signatureProblem).toBeNull();
    expect(receipt?.idempotencyKey).toBe(id);
    expect(receipt?.contentType).toBe('application/json');
    expect(JSON.parse(receipt?.body ?? '')).toEqual({
      id,
      topic: 'refund.recorded',
      account: 'acct_1Test',
      created_event_id: 'evt_refund_1',
      created_at: createdAt,
      payload: { refund: 're_123', amount: 500, currency: 'usd' },
    });

    const row = await readMessage(test.backend.ledger, id);
    expect(row.status).toBe('sent');
    expect(Number(row.attempts)).toBe(1);
    expect(row.sent_at).toBe(iso(clock.now()));
    expect(row.lease_until).toBeNull();
    expect(row.lease_token).toBeNull();
  });

  it('sends the message a real event writes', async () => {
    const event = loadEventFile('payment_intent.succeeded.json');
    const decision = decide(event, { livemode: false, manualReviewAmount: 100_000 });
    await applyEvent(test.backend.ledger, { event, decision }, { clock: clock.now });

    await testRelay(test.backend.ledger, receiver, clock).processBatch();

    expect(receiver.receipts).toHaveLength(1);
    const body = JSON.parse(receiver.receipts[0]?.body ?? '') as { topic: string; created_event_id: string; payload: Record<string, unknown> };
    expect(receiver.receipts[0]?.signatureProblem).toBeNull();
    expect(body.topic).toBe('order.paid');
    expect(body.created_event_id).toBe(event.id);
    expect(body.payload.payment_intent).toBe('pi_3zx37XEx4mPLeAcckkiDHkmx');
  });

  it('does nothing when no message is pending', async () => {
    expect(await testRelay(test.backend.ledger, receiver, clock).processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });
    expect(receiver.receipts).toEqual([]);
  });
});

describe('outbox relay retries', () => {
  it('retries after a 500 and sends once', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    receiver.reply(500);
    const relay = testRelay(test.backend.ledger, receiver, clock);

    expect(await relay.processBatch()).toMatchObject({ retried: 1, sent: 0 });
    const retrying = await readMessage(test.backend.ledger, id);
    expect(retrying.status).toBe('pending');
    expect(Number(retrying.attempts)).toBe(1);
    expect(retrying.last_error).toContain('HTTP 500');
    // The jitter draw of 0.5 gives exactly the base delay for attempt 1.
    expect(retrying.next_attempt_at).toBe(iso(clock.now() + TEST_BACKOFF.baseMs));

    clock.advance(TEST_BACKOFF.baseMs - 1);
    expect(await relay.processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });
    clock.advance(1);
    expect(await relay.processBatch()).toMatchObject({ sent: 1 });

    expect(receiver.receiptsFor(id).map((receipt) => receipt.response)).toEqual([500, 200]);
    const sent = await readMessage(test.backend.ledger, id);
    expect(sent.status).toBe('sent');
    expect(Number(sent.attempts)).toBe(2);
    expect(await relay.processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });
    expect(receiver.receipts).toHaveLength(2);
  });

  it('retries after a timeout', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    receiver.reply('hang');
    const relay = testRelay(test.backend.ledger, receiver, clock, { timeoutMs: 200 });

    expect(await relay.processBatch()).toMatchObject({ retried: 1 });
    const row = await readMessage(test.backend.ledger, id);
    expect(row.status).toBe('pending');
    expect(row.last_error).toContain('did not respond within 200 ms');

    clock.advance(TEST_BACKOFF.baseMs);
    expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    expect(receiver.receiptsFor(id).map((receipt) => receipt.response)).toEqual(['hang', 200]);
  });

  it('retries after a refused connection', async () => {
    const closed = await TestReceiver.start({ now: clock.now });
    await closed.close();
    const id = await enqueueMessage(test.backend.ledger, clock);

    expect(await testRelay(test.backend.ledger, closed, clock).processBatch()).toMatchObject({ retried: 1 });
    const row = await readMessage(test.backend.ledger, id);
    expect(row.last_error).toContain('ECONNREFUSED');
    expect(row.last_error).not.toContain(closed.url);
  });

  it('treats a redirect as a failure and does not follow it', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    receiver.reply(307);

    expect(await testRelay(test.backend.ledger, receiver, clock).processBatch()).toMatchObject({ retried: 1 });
    expect(receiver.receipts).toHaveLength(1);
    expect((await readMessage(test.backend.ledger, id)).last_error).toContain('HTTP 307');
  });

  it('backs off exponentially up to the maximum', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    const relay = testRelay(test.backend.ledger, receiver, clock);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      receiver.reply(503);
      await relay.processBatch();
      const row = await readMessage(test.backend.ledger, id);
      const delay = Date.parse(row.next_attempt_at ?? '') - clock.now();
      delays.push(delay);
      clock.advance(delay);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});

describe('outbox relay failure and retry from the admin API', () => {
  it('fails after the last attempt, then retries', async () => {
    const { logger, lines } = capturingLogger();
    const id = await enqueueMessage(test.backend.ledger, clock, { payload: { order_reference: 'order_private_ref_77', amount_paid: 4200 } });
    receiver.reply(500, 500, 500);
    const relay = testRelay(test.backend.ledger, receiver, clock, { maxAttempts: 3, logger });

    const results = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      results.push(await relay.processBatch());
      clock.advance(TEST_BACKOFF.maxMs);
    }
    expect(results.map((result) => result.failed)).toEqual([0, 0, 1]);
    const failed = await readMessage(test.backend.ledger, id);
    expect(failed.status).toBe('failed');
    expect(Number(failed.attempts)).toBe(3);
    expect(failed.next_attempt_at).toBeNull();
    expect(await relay.processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });

    const errorLines = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 50);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({ msg: 'outbox message failed after its last attempt', messageId: id, topic: 'order.paid', attempt: 3 });
    for (const line of lines) {
      expect(line).not.toContain('order_private_ref_77');
      expect(line).not.toContain(RECEIVER_SECRET);
      expect(line).not.toContain(receiver.url);
    }

    const app = adminApp(test.backend, testConfig(test.directory, { ADMIN_TOKEN }));
    const response = await app.request(`/admin/outbox/${id}/retry`, { method: 'POST', headers: ADMIN_HEADERS });
    expect(response.status).toBe(202);
    const view = (await response.json()) as OutboxMessageView;
    expect(view).toMatchObject({ id, status: 'pending', attempts: 0, nextAttemptAt: null });

    expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    expect(receiver.receiptsFor(id).map((receipt) => receipt.response)).toEqual([500, 500, 500, 200]);
    expect(await countByStatus(test.backend.ledger)).toEqual({ sent: 1 });
  });
});

describe('outbox relay order per account', () => {
  it('holds a message back while an older one of its account is pending', async () => {
    const first = await enqueueMessage(test.backend.ledger, clock, { account: 'acct_A' });
    clock.advance(1);
    const second = await enqueueMessage(test.backend.ledger, clock, { account: 'acct_A' });
    clock.advance(1);
    const other = await enqueueMessage(test.backend.ledger, clock, { account: 'acct_B' });
    receiver.replyFor(first, 500);
    const relay = testRelay(test.backend.ledger, receiver, clock);

    expect(await relay.processBatch()).toEqual({ sent: 1, retried: 1, failed: 0, skipped: 0 });
    expect(receiver.receiptsFor(second)).toEqual([]);
    expect(receiver.receiptsFor(other)).toHaveLength(1);
    // The first message is not due yet, and the second still waits for it.
    expect(await relay.processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });

    clock.advance(TEST_BACKOFF.baseMs);
    expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    const accountA = receiver.receipts.filter((receipt) => receipt.idempotencyKey !== other).map((receipt) => receipt.idempotencyKey);
    expect(accountA).toEqual([first, first, second]);
  });

  it('sends messages of one account oldest first', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      ids.push(await enqueueMessage(test.backend.ledger, clock, { account: 'acct_A' }));
    }
    const relay = testRelay(test.backend.ledger, receiver, clock);
    for (let batch = 0; batch < 4; batch += 1) expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    expect(receiver.receipts.map((receipt) => receipt.idempotencyKey)).toEqual(ids);
  });

  it('lets later messages pass a failed one', async () => {
    const first = await enqueueMessage(test.backend.ledger, clock, { account: 'acct_A' });
    clock.advance(1);
    const second = await enqueueMessage(test.backend.ledger, clock, { account: 'acct_A' });
    receiver.replyFor(first, 500);
    const relay = testRelay(test.backend.ledger, receiver, clock, { maxAttempts: 1 });

    expect(await relay.processBatch()).toMatchObject({ failed: 1 });
    expect(await relay.processBatch()).toMatchObject({ sent: 1 });
    expect((await readMessage(test.backend.ledger, second)).status).toBe('sent');
  });
});

describe('outbox relay start and stop', () => {
  it('stops after the request in flight and sends nothing more', async () => {
    const relay = testRelay(test.backend.ledger, receiver, clock, { pollIntervalMs: 10 });
    relay.start();
    const first = await enqueueMessage(test.backend.ledger, clock);
    await receiver.waitForRequests(1);

    receiver.reply('hold');
    const second = await enqueueMessage(test.backend.ledger, clock);
    await receiver.waitForRequests(2);
    let stopped = false;
    const stopping = relay.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    receiver.releaseHeld();
    await stopping;

    expect((await readMessage(test.backend.ledger, first)).status).toBe('sent');
    expect((await readMessage(test.backend.ledger, second)).status).toBe('sent');
    const third = await enqueueMessage(test.backend.ledger, clock);
    // Five poll intervals: a relay that kept polling would have sent the third message by now.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.receipts).toHaveLength(2);
    expect((await readMessage(test.backend.ledger, third)).status).toBe('pending');
    await relay.stop();
  });

  it('stops at once while idle', async () => {
    const relay = testRelay(test.backend.ledger, receiver, clock, { pollIntervalMs: 60_000 });
    relay.start();
    await relay.stop();
    expect(receiver.receipts).toEqual([]);
  });
});

describe('outbox relay options', () => {
  it('rejects a lease shorter than the request timeout', () => {
    expect(() => testRelay(test.backend.ledger, receiver, clock, { timeoutMs: 5000, leaseMs: 5000 })).toThrow(/leaseMs should be/);
  });

  it('rejects zero attempts', () => {
    expect(() => testRelay(test.backend.ledger, receiver, clock, { maxAttempts: 0 })).toThrow(/maxAttempts should be/);
  });
});
