import type { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxMessageView } from '../../src/outbox/admin.js';
import { withDeliveryColumns } from '../../src/outbox/delivery-table.js';
import { openTestBackend, type TestBackend } from '../support/embedded-backend.js';
import { ManualClock } from '../support/manual-clock.js';
import { ADMIN_HEADERS, ADMIN_TOKEN, adminApp } from './support/admin-app.js';
import { enqueueMessage, readMessage } from './support/messages.js';

/** `GET /admin/outbox` and `POST /admin/outbox/:id/retry` on a real embedded backend. */

let test: TestBackend;
let app: Hono;
let clock: ManualClock;

beforeEach(async () => {
  test = await openTestBackend({ env: { ADMIN_TOKEN } });
  app = adminApp(test.backend, test.config);
  clock = new ManualClock();
});

afterEach(async () => {
  await test.close();
});

/** Sets a message's status as the relay would leave it after its last attempt failed. */
async function markFailed(id: string): Promise<void> {
  await withDeliveryColumns(test.backend.ledger)
    .updateTable('ledger_outbox')
    .set({ status: 'failed', attempts: 10, last_error: 'The receiver responded with HTTP 500.' })
    .where('id', '=', id)
    .execute();
}

async function listed(query = ''): Promise<{ status: number; messages: OutboxMessageView[] }> {
  const response = await app.request(`/admin/outbox${query}`, { headers: ADMIN_HEADERS });
  const body = (await response.json()) as { messages: OutboxMessageView[] };
  return { status: response.status, messages: body.messages };
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('GET /admin/outbox', () => {
  it('lists messages newest first with their delivery state', async () => {
    const older = await enqueueMessage(test.backend.ledger, clock, { payload: { order_reference: 'order_1' } });
    clock.advance(1000);
    const newer = await enqueueMessage(test.backend.ledger, clock, { topic: 'refund.recorded', account: 'acct_X' });
    await markFailed(older);

    const { status, messages } = await listed();
    expect(status).toBe(200);
    expect(messages.map((message) => message.id)).toEqual([newer, older]);
    expect(messages[1]).toEqual({
      id: older,
      topic: 'order.paid',
      account: '',
      status: 'failed',
      attempts: 10,
      lastError: 'The receiver responded with HTTP 500.',
      nextAttemptAt: null,
      createdEventId: expect.stringMatching(/^evt_test_/) as unknown,
      createdAt: new Date(clock.now() - 1000).toISOString(),
      sentAt: null,
      payload: { order_reference: 'order_1' },
    });
  });

  it('filters by status and limits the count', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      ids.push(await enqueueMessage(test.backend.ledger, clock));
      clock.advance(1);
    }
    await markFailed(ids[0] ?? '');

    expect((await listed('?status=failed')).messages.map((message) => message.id)).toEqual([ids[0]]);
    expect((await listed('?status=pending')).messages.map((message) => message.id)).toEqual([ids[2], ids[1]]);
    expect((await listed('?status=sent')).messages).toEqual([]);
    expect((await listed('?limit=1')).messages.map((message) => message.id)).toEqual([ids[2]]);
  });

  it('rejects an unknown status', async () => {
    const response = await app.request('/admin/outbox?status=dead', { headers: ADMIN_HEADERS });
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('invalid_parameter');
  });

  it('needs the admin token', async () => {
    expect((await app.request('/admin/outbox')).status).toBe(401);
    expect((await app.request('/admin/outbox/x/retry', { method: 'POST' })).status).toBe(401);
  });
});

describe('POST /admin/outbox/:id/retry', () => {
  it('moves a failed message back to pending with its attempts reset', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    await markFailed(id);

    const response = await app.request(`/admin/outbox/${id}/retry`, { method: 'POST', headers: ADMIN_HEADERS });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id, status: 'pending', attempts: 0, nextAttemptAt: null });
    const row = await readMessage(test.backend.ledger, id);
    expect(row.status).toBe('pending');
    expect(Number(row.attempts)).toBe(0);
    expect(row.lease_until).toBeNull();
  });

  it('rejects a message that is not failed', async () => {
    const id = await enqueueMessage(test.backend.ledger, clock);
    const response = await app.request(`/admin/outbox/${id}/retry`, { method: 'POST', headers: ADMIN_HEADERS });
    expect(response.status).toBe(409);
    expect(await errorCode(response)).toBe('not_retryable');
    expect((await readMessage(test.backend.ledger, id)).status).toBe('pending');
  });

  it('answers 404 for an unknown message', async () => {
    const response = await app.request('/admin/outbox/no-such-message/retry', { method: 'POST', headers: ADMIN_HEADERS });
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe('not_found');
  });
});
