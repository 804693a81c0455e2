import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedBackend } from '../../src/backend/embedded.js';
import { createSilentLogger } from '../../src/logger.js';
import type { OutboxMessageView } from '../../src/outbox/admin.js';
import { readSample } from '../../src/samples/fixtures.js';
import { startService, type RunningService, type ServiceRole } from '../../src/service.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';
import { ADMIN_HEADERS, ADMIN_TOKEN } from './support/admin-app.js';
import { readMessage } from './support/messages.js';
import { RECEIVER_SECRET, TestReceiver } from './support/receiver.js';

/** The relay as the service runs it: started with the worker, fed by real events, stopped on shutdown. */

const PAID_EVENT = readSample('payment_intent.succeeded.json').raw;

let test: TestBackend | null = null;
let service: RunningService | null = null;
let receiver: TestReceiver | null = null;

afterEach(async () => {
  await service?.stop();
  await test?.close();
  await receiver?.close();
  service = null;
  test = null;
  receiver = null;
});

async function startWith(env: Record<string, string>, role: ServiceRole): Promise<{ test: TestBackend; service: RunningService }> {
  test = await openTestBackend({ env: { ADMIN_TOKEN, OUTBOX_POLL_INTERVAL_MS: '10', WORKER_POLL_INTERVAL_MS: '10', ...env } });
  service = await startService({ config: test.config, backend: test.backend, logger: createSilentLogger(), role });
  return { test, service };
}

/** Polls `read` every 10 ms until it returns a value other than undefined; fails naming `what` after 10 s. */
async function eventually<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function outboxIdOf(running: TestBackend): Promise<string> {
  return eventually('an outbox message', async () => {
    const row = await running.backend.ledger.selectFrom('ledger_outbox').select('id').executeTakeFirst();
    return row?.id;
  });
}

describe('service without OUTBOX_WEBHOOK_URL', () => {
  it('keeps messages pending and lists them in the admin API', async () => {
    const { test, service } = await startWith({}, 'all');
    expect(service.outboxRelay).toBeNull();

    await test.ingest(PAID_EVENT);
    const id = await outboxIdOf(test);

    const response = await fetch(`http://127.0.0.1:${service.port}/admin/outbox?status=pending`, { headers: ADMIN_HEADERS });
    expect(response.status).toBe(200);
    const { messages } = (await response.json()) as { messages: OutboxMessageView[] };
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id, topic: 'order.paid', status: 'pending', attempts: 0, sentAt: null });
  });
});

describe('service with OUTBOX_WEBHOOK_URL', () => {
  it('sends the messages of processed events from a worker process', async () => {
    receiver = await TestReceiver.start();
    const { test, service } = await startWith({ OUTBOX_WEBHOOK_URL: receiver.url, OUTBOX_SIGNING_SECRET: RECEIVER_SECRET }, 'worker');
    expect(service.outboxRelay).not.toBeNull();

    await test.ingest(PAID_EVENT);
    await receiver.waitForRequests(1);
    const id = await outboxIdOf(test);

    expect(receiver.receipts[0]).toMatchObject({ idempotencyKey: id, signatureProblem: null });
    expect(JSON.parse(receiver.receipts[0]?.body ?? '')).toMatchObject({ id, topic: 'order.paid' });
    const row = await eventually('the sent status', async () => {
      const current = await readMessage(test.backend.ledger, id);
      return current.status === 'sent' ? current : undefined;
    });
    expect(Number(row.attempts)).toBe(1);
  });

  it('starts no relay in an HTTP-only process', async () => {
    receiver = await TestReceiver.start();
    const { service } = await startWith({ OUTBOX_WEBHOOK_URL: receiver.url, OUTBOX_SIGNING_SECRET: RECEIVER_SECRET }, 'serve');
    expect(service.outboxRelay).toBeNull();
  });

  it('stops the relay when the service stops', async () => {
    receiver = await TestReceiver.start();
    const { test, service } = await startWith({ OUTBOX_WEBHOOK_URL: receiver.url, OUTBOX_SIGNING_SECRET: RECEIVER_SECRET }, 'all');
    receiver.reply('hold');
    await test.ingest(PAID_EVENT);
    await receiver.waitForRequests(1);

    const stopping = service.stop();
    receiver.releaseHeld();
    await stopping;
    // The outcome of the request in flight was recorded before the ledger closed.
    const reopened = await openEmbeddedBackend({ config: test.config, logger: createSilentLogger() });
    try {
      const rows = await reopened.ledger.selectFrom('ledger_outbox').select(['status', 'attempts']).execute();
      expect(rows).toEqual([{ status: 'sent', attempts: 1 }]);
    } finally {
      await reopened.close();
    }
  });
});
