import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/decision/types.js';
import { createHarness, type Harness } from './harness.js';
import { ADMIN_TOKEN, fixtureBody } from './support.js';

const decision: Decision = {
  action: 'mark_order_paid',
  reason: 'The PaymentIntent succeeded.',
  priority: 'normal',
  requiresAi: false,
  aiTask: null,
  provider: null,
  retryable: true,
  metadata: { orderId: 'order_10001' },
};

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

interface ErrorBody {
  error: { code: string; message: string };
}
interface EventBody {
  id: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  decision: Decision | null;
  receivedAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  processedAt: string | null;
  payload?: string;
  enrichments: unknown[];
}

type Target = 'received' | 'processing' | 'processed' | 'failed' | 'dead';

/** Delivers a fixture event through the webhook and moves it to `target` with the real queue. */
async function eventIn(harness: Harness, fixture: string, target: Target): Promise<string> {
  const body = fixtureBody(fixture);
  const id = (JSON.parse(body) as { id: string }).id;
  harness.time.now += 1000;
  expect((await harness.deliver(body)).status).toBe(200);
  if (target === 'received') return id;

  const job = await harness.store.queue.claim({ leaseMs: 30_000 });
  expect(job?.id).toBe(id);
  if (job === null) throw new Error(`no job was claimable for ${id}`);
  if (target === 'processed') await harness.store.queue.complete(job, decision);
  if (target === 'failed') await harness.store.queue.retry(job, { error: 'HandlerError: ledger busy', delayMs: 60_000, decision });
  if (target === 'dead') await harness.store.queue.deadLetter(job, { error: 'NonRetryableError: unknown order', decision: null });
  return id;
}

async function get(harness: Harness, path: string, headers: Record<string, string> = auth): Promise<Response> {
  return harness.app.request(path, { headers });
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  return ((await response.json()) as ErrorBody).error;
}

describe('admin API', () => {
  describe('when no admin token is configured', () => {
    it('answers 404 on every admin route', async () => {
      const harness = createHarness();
      try {
        for (const path of ['/admin/events', '/admin/dead-letters', '/admin/events/evt_1']) {
          const response = await get(harness, path);

          expect(response.status).toBe(404);
          expect((await errorOf(response)).code).toBe('not_found');
        }
        const replay = await harness.app.request('/admin/events/evt_1/replay', { method: 'POST', headers: auth });
        expect(replay.status).toBe(404);
      } finally {
        await harness.close();
      }
    });
  });

  describe('when an admin token is configured', () => {
    let harness: Harness;
    const enrichments = [{ task: 'dispute_summary', outcome: 'ok', advice: { summary: 'Customer disputes the charge.' } }];
    const ledgerRecord = { kind: 'order', orderId: 'order_10001', status: 'paid', amount: 3000 };

    beforeEach(() => {
      harness = createHarness({
        env: { ADMIN_TOKEN },
        findEnrichments: (eventId) => Promise.resolve(eventId === 'evt_3WyR01Ex4mPLeAcc9thJlMrV' ? enrichments : []),
        findLedgerRecord: (id) => Promise.resolve(id === 'pi_3zx37XEx4mPLeAcckkiDHkmx' ? ledgerRecord : null),
      });
    });
    afterEach(async () => {
      await harness.close();
    });

    describe('authentication', () => {
      it('answers 401 with a Bearer challenge when the token is missing', async () => {
        const response = await get(harness, '/admin/events', {});

        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
        expect((await errorOf(response)).code).toBe('unauthorized');
      });

      it.each([
        ['a wrong token', 'Bearer not-the-admin-token-000000000'],
        ['a prefix of the token', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
        ['the token with a suffix', `Bearer ${ADMIN_TOKEN}x`],
      ])('answers 401 invalid_token for %s', async (_case, authorization) => {
        const response = await get(harness, '/admin/events', { Authorization: authorization });

        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin", error="invalid_token"');
        expect(await response.text()).not.toContain(ADMIN_TOKEN);
      });

      it('answers 401 for another authentication scheme', async () => {
        const response = await get(harness, '/admin/events', { Authorization: `Basic ${ADMIN_TOKEN}` });

        expect(response.status).toBe(401);
      });

      it('accepts the scheme name in any case', async () => {
        const response = await get(harness, '/admin/events', { Authorization: `bearer ${ADMIN_TOKEN}` });

        expect(response.status).toBe(200);
      });

      it('checks the token before answering an unknown admin route', async () => {
        expect((await get(harness, '/admin/nothing-here', {})).status).toBe(401);
        expect((await get(harness, '/admin/nothing-here')).status).toBe(404);
      });
    });

    describe('GET /admin/events/:id', () => {
      it('returns the record and its enrichments without the payload', async () => {
        const id = await eventIn(harness, 'payment_intent.succeeded', 'processed');

        const response = await get(harness, `/admin/events/${id}`);

        expect(response.status).toBe(200);
        const body = (await response.json()) as EventBody;
        expect(body).toMatchObject({ id, type: 'payment_intent.succeeded', status: 'processed', attempts: 1, lastError: null, decision });
        expect(body.enrichments).toEqual(enrichments);
        expect(body.processedAt).toBe(new Date(harness.time.now).toISOString());
        expect(body.receivedAt).toBe(new Date(harness.time.now).toISOString());
        expect(body).not.toHaveProperty('payload');
      });

      it('includes the exact raw payload with include=payload', async () => {
        const id = await eventIn(harness, 'charge.succeeded', 'received');

        const response = await get(harness, `/admin/events/${id}?include=payload`);

        const body = (await response.json()) as EventBody;
        expect(body.payload).toBe(fixtureBody('charge.succeeded'));
        expect(body.enrichments).toEqual([]);
      });

      it('answers 400 naming the parameter for an unknown include', async () => {
        const id = await eventIn(harness, 'charge.succeeded', 'received');

        const response = await get(harness, `/admin/events/${id}?include=secrets`);

        expect(response.status).toBe(400);
        const error = await errorOf(response);
        expect(error.code).toBe('invalid_parameter');
        expect(error.message).toContain('"include"');
        expect(error.message).toContain('payload');
      });

      it('answers 404 for an unknown event', async () => {
        const response = await get(harness, '/admin/events/evt_does_not_exist');

        expect(response.status).toBe(404);
        expect((await errorOf(response)).message).toContain('evt_does_not_exist');
      });

      it('returns an empty enrichment list when no lookup is configured', async () => {
        await harness.close();
        harness = createHarness({ env: { ADMIN_TOKEN } });
        const id = await eventIn(harness, 'charge.succeeded', 'received');

        const body = (await (await get(harness, `/admin/events/${id}`)).json()) as EventBody;

        expect(body.enrichments).toEqual([]);
      });
    });

    describe('GET /admin/events', () => {
      let ids: Record<Target, string>;

      beforeEach(async () => {
        // A received event stays claimable, so it is delivered last to keep each claim unambiguous.
        ids = {
          processed: await eventIn(harness, 'payment_intent.succeeded', 'processed'),
          failed: await eventIn(harness, 'invoice.paid', 'failed'),
          dead: await eventIn(harness, 'charge.dispute.created', 'dead'),
          processing: await eventIn(harness, 'charge.succeeded', 'processing'),
          received: await eventIn(harness, 'customer.created', 'received'),
        };
      });

      async function listed(query: string): Promise<string[]> {
        const response = await get(harness, `/admin/events${query}`);
        expect(response.status).toBe(200);
        return ((await response.json()) as { events: EventBody[] }).events.map((event) => event.id);
      }

      it('lists events newest first without payloads', async () => {
        const response = await get(harness, '/admin/events');
        const { events } = (await response.json()) as { events: EventBody[] };

        expect(events.map((event) => event.id)).toEqual([ids.received, ids.processing, ids.dead, ids.failed, ids.processed]);
        expect(events.every((event) => !('payload' in event))).toBe(true);
      });

      it('filters by status, type and limit', async () => {
        expect(await listed('?status=dead')).toEqual([ids.dead]);
        expect(await listed('?type=invoice.paid')).toEqual([ids.failed]);
        expect(await listed('?status=failed&type=invoice.paid')).toEqual([ids.failed]);
        expect(await listed('?status=failed&type=customer.created')).toEqual([]);
        expect(await listed('?limit=2')).toEqual([ids.received, ids.processing]);
        expect(await listed('?status=&type=&limit=')).toHaveLength(5);
      });

      it('answers 400 listing the statuses for an unknown status', async () => {
        const response = await get(harness, '/admin/events?status=done');

        expect(response.status).toBe(400);
        const error = await errorOf(response);
        expect(error.message).toContain('"status"');
        expect(error.message).toContain('received, processing, processed, failed, dead');
      });

      it.each(['0', '501', 'ten', '-1', '2.5'])('answers 400 naming the range for limit=%s', async (limit) => {
        const response = await get(harness, `/admin/events?limit=${limit}`);

        expect(response.status).toBe(400);
        const error = await errorOf(response);
        expect(error.message).toContain('"limit"');
        expect(error.message).toContain('1 to 500');
      });

      it('answers 400 for a type that is not an event type', async () => {
        const response = await get(harness, `/admin/events?type=${encodeURIComponent("x' OR 1=1")}`);

        expect(response.status).toBe(400);
        expect((await errorOf(response)).message).toContain('"type"');
      });
    });

    describe('POST /admin/events/:id/replay', () => {
      async function replay(id: string): Promise<Response> {
        return harness.app.request(`/admin/events/${id}/replay`, { method: 'POST', headers: auth });
      }

      it.each(['dead', 'failed'] as const)('answers 202 and queues a %s event again', async (status) => {
        const id = await eventIn(harness, 'charge.dispute.created', status);

        const response = await replay(id);

        expect(response.status).toBe(202);
        expect((await response.json()) as EventBody).toMatchObject({ id, status: 'received', attempts: 0 });
        const job = await harness.store.queue.claim({ leaseMs: 30_000 });
        expect(job?.id).toBe(id);
      });

      it.each(['processed', 'received', 'processing'] as const)('answers 409 for a %s event naming the replayable states', async (status) => {
        const id = await eventIn(harness, 'payment_intent.succeeded', status);

        const response = await replay(id);

        expect(response.status).toBe(409);
        const error = await errorOf(response);
        expect(error.code).toBe('not_replayable');
        expect(error.message).toContain(`is ${status}`);
        expect(error.message).toContain('failed or dead');
        expect((await harness.events.get(id))?.status).toBe(status);
      });

      it('answers 404 for an unknown event', async () => {
        const response = await replay('evt_does_not_exist');

        expect(response.status).toBe(404);
      });

      it('rejects GET on the replay path', async () => {
        const id = await eventIn(harness, 'charge.dispute.created', 'dead');

        expect((await get(harness, `/admin/events/${id}/replay`)).status).toBe(404);
        expect((await harness.events.get(id))?.status).toBe('dead');
      });
    });

    describe('GET /admin/dead-letters', () => {
      it('lists only dead events with their last error', async () => {
        await eventIn(harness, 'payment_intent.succeeded', 'processed');
        const dead = await eventIn(harness, 'charge.dispute.created', 'dead');

        const response = await get(harness, '/admin/dead-letters');

        const { events } = (await response.json()) as { events: EventBody[] };
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ id: dead, status: 'dead', lastError: 'NonRetryableError: unknown order' });
      });

      it('answers 400 for a limit out of range', async () => {
        const response = await get(harness, '/admin/dead-letters?limit=1000');

        expect(response.status).toBe(400);
        expect((await errorOf(response)).message).toContain('"limit"');
      });
    });

    describe('GET /admin/ledger/:stripeObjectId', () => {
      it('returns the ledger record', async () => {
        const response = await get(harness, '/admin/ledger/pi_3zx37XEx4mPLeAcckkiDHkmx');

        expect(response.status).toBe(200);
        expect(await response.json()).toEqual(ledgerRecord);
      });

      it('answers 404 for an object the ledger does not know', async () => {
        const response = await get(harness, '/admin/ledger/pi_unknown');

        expect(response.status).toBe(404);
        expect((await errorOf(response)).message).toContain('pi_unknown');
      });
    });
  });
});
