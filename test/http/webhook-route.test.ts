import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_PATH } from '../../src/http/webhook-route.js';
import { createHarness, IngestFailureInjector, storedEventCount, type Harness } from './harness.js';
import { fixtureBody, NOW_SECONDS, OLD_SECRET, SECRET, signatureHeader } from './support.js';

const payload = fixtureBody('payment_intent.succeeded');
const eventId = (JSON.parse(payload) as { id: string }).id;

interface ErrorBody {
  error: { code: string; message: string };
}

async function errorCodeOf(response: Response): Promise<string> {
  return ((await response.json()) as ErrorBody).error.code;
}

describe('POST /webhooks/stripe', () => {
  let harness: Harness;

  beforeEach(() => {
    harness = createHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  describe('when the event is signed and new', () => {
    it('answers 200 and stores the exact raw bytes', async () => {
      const response = await harness.deliver(payload);

      expect(response.status).toBe(200);
      expect(await response.text()).toBe('{"received":true}');
      const record = await harness.events.get(eventId);
      expect(record?.payload).toBe(payload);
      expect(record?.status).toBe('received');
      expect(record?.type).toBe('payment_intent.succeeded');
      expect(record?.created).toBe(1786370492);
      expect(record?.livemode).toBe(false);
      expect(record?.account).toBeNull();
    });

    it('records the connected account of a Connect event', async () => {
      const body = fixtureBody('payment_intent.succeeded.connect_account');

      expect((await harness.deliver(body)).status).toBe(200);

      const id = (JSON.parse(body) as { id: string }).id;
      expect((await harness.events.get(id))?.account).toBe('acct_1QfakeCoNNectAcc');
    });

    it('accepts a thin v2 event notification', async () => {
      const body = fixtureBody('v2.core.event.v1.billing.meter.error_report_triggered.notification');

      const response = await harness.deliver(body);

      expect(response.status).toBe(200);
      const record = await harness.events.get('evt_test_65e3tD9N06b3ca9ACzr8rZXQegonzk2Wb3zoInDVF7wISV7A');
      expect(record?.type).toBe('v1.billing.meter.error_report_triggered');
      expect(record?.created).toBe(Math.floor(Date.parse('2026-08-14T06:20:52.246Z') / 1000));
      expect(record?.payload).toBe(body);
    });

    it('logs the accepted event with its id and type only', async () => {
      const header = signatureHeader(payload);
      await harness.deliver(payload, header);

      const line = harness.logLines.find((entry) => entry.includes('"event accepted"'));
      expect(line).toBeDefined();
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 30, eventId, eventType: 'payment_intent.succeeded' });
      for (const entry of harness.logLines) {
        expect(entry).not.toContain(header);
        expect(entry).not.toContain(SECRET);
        expect(entry).not.toContain('pi_3zx37XEx4mPLeAcckkiDHkmx_secret');
      }
    });
  });

  describe('when a callback waits for accepted events', () => {
    it('calls it once per accepted event', async () => {
      await harness.close();
      const accepted: string[] = [];
      harness = createHarness({ onAccepted: (id) => accepted.push(id) });

      await harness.deliver(payload);
      await harness.deliver(payload);

      expect(accepted).toEqual([eventId]);
    });

    it('still answers 200 when the callback throws', async () => {
      await harness.close();
      harness = createHarness({
        onAccepted: () => {
          throw new Error('worker is stopping');
        },
      });

      const response = await harness.deliver(payload);

      expect(await response.text()).toBe('{"received":true}');
      expect(harness.logLines.some((line) => line.includes('"accepted-event callback failed"') && line.includes(eventId))).toBe(true);
    });
  });

  describe('when the event was delivered before', () => {
    it('answers the second delivery as a duplicate', async () => {
      expect(await (await harness.deliver(payload)).text()).toBe('{"received":true}');

      const second = await harness.deliver(payload);

      expect(second.status).toBe(200);
      expect(await second.text()).toBe('{"received":true,"duplicate":true}');
      expect(await storedEventCount(harness.events)).toBe(1);
    });

    it('accepts exactly one of 20 concurrent deliveries', async () => {
      const header = signatureHeader(payload);

      const responses = await Promise.all(Array.from({ length: 20 }, () => harness.deliver(payload, header)));

      const bodies = await Promise.all(responses.map((response) => response.text()));
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(bodies.filter((body) => body === '{"received":true}')).toHaveLength(1);
      expect(bodies.filter((body) => body === '{"received":true,"duplicate":true}')).toHaveLength(19);
      expect(await storedEventCount(harness.events)).toBe(1);
    });
  });

  describe('when the signature fails', () => {
    const validSignature = signatureHeader(payload).split(',')[1] ?? '';
    const cases: ReadonlyArray<{ name: string; body: string; header: string | null; code: string }> = [
      { name: 'a missing header', body: payload, header: null, code: 'signature_missing' },
      { name: 'a malformed header', body: payload, header: 'not-a-signature', code: 'signature_malformed' },
      { name: 'a header without v1', body: payload, header: `t=${NOW_SECONDS}`, code: 'signature_malformed' },
      {
        name: 'the wrong secret',
        body: payload,
        header: signatureHeader(payload, { secret: 'whsec_not_this_endpoint_00000000000' }),
        code: 'signature_mismatch',
      },
      {
        name: 'a tampered body',
        body: payload.replace('"amount": 3000', '"amount": 30'),
        header: signatureHeader(payload),
        code: 'signature_mismatch',
      },
      {
        name: 'an expired timestamp',
        body: payload,
        header: signatureHeader(payload, { timestampSeconds: NOW_SECONDS - 301 }),
        code: 'signature_expired',
      },
      {
        name: 'a timestamp too far in the future',
        body: payload,
        header: signatureHeader(payload, { timestampSeconds: NOW_SECONDS + 301 }),
        code: 'signature_expired',
      },
      {
        name: 'a re-serialised body',
        body: JSON.stringify(JSON.parse(payload)),
        header: signatureHeader(payload),
        code: 'signature_mismatch',
      },
      { name: 'a signature for another timestamp', body: payload, header: `t=${NOW_SECONDS - 1},${validSignature}`, code: 'signature_mismatch' },
    ];

    it.each(cases)('answers 400 $code for $name and stores nothing', async ({ body, header, code }) => {
      const response = await harness.deliver(body, header);

      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe(code);
      expect(await storedEventCount(harness.events)).toBe(0);
    });

    it('never returns the secret, the signature header or a stack', async () => {
      for (const { body, header } of cases) {
        const text = await (await harness.deliver(body, header)).text();

        expect(text).not.toContain(SECRET);
        if (header !== null) expect(text).not.toContain(header);
        expect(text).not.toMatch(/\n\s+at /);
        expect(text).not.toContain('.ts:');
      }
    });

    it('logs each rejection at info without the header or body', async () => {
      const header = signatureHeader(payload, { secret: OLD_SECRET });
      await harness.deliver(payload, header);

      const line = harness.logLines.find((entry) => entry.includes('"webhook rejected"'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 30, code: 'signature_mismatch', status: 400 });
      expect(line).not.toContain(header);
      expect(line).not.toContain(eventId);
    });
  });

  describe('when the endpoint secret is being rotated', () => {
    it('accepts events signed with the old or the new secret', async () => {
      await harness.close();
      harness = createHarness({ env: { STRIPE_WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}` } });
      const second = fixtureBody('charge.succeeded');

      const withOld = await harness.deliver(payload, signatureHeader(payload, { secret: OLD_SECRET }));
      const withNew = await harness.deliver(second, signatureHeader(second, { secret: SECRET }));

      expect(await withOld.text()).toBe('{"received":true}');
      expect(await withNew.text()).toBe('{"received":true}');
      expect(await storedEventCount(harness.events)).toBe(2);
    });
  });

  describe('when no endpoint secret is configured', () => {
    it('rejects the delivery and logs an error for the operator', async () => {
      await harness.close();
      harness = createHarness({ env: { STRIPE_WEBHOOK_SECRET: '' } });

      const response = await harness.deliver(payload);

      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('no_secret_configured');
      const line = harness.logLines.find((entry) => entry.includes('"webhook rejected"'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 50, code: 'no_secret_configured' });
    });
  });

  describe('when the body is too large', () => {
    const limit = 1024;

    beforeEach(async () => {
      await harness.close();
      harness = createHarness({ env: { BODY_LIMIT_BYTES: String(limit) } });
    });

    it('answers 413 from the declared Content-Length before reading the body', async () => {
      const response = await harness.app.request(WEBHOOK_PATH, {
        method: 'POST',
        headers: { 'Content-Length': String(limit + 1), 'Stripe-Signature': signatureHeader('{}') },
        body: '{}',
      });

      expect(response.status).toBe(413);
      expect(await errorCodeOf(response)).toBe('payload_too_large');
    });

    it('answers 413 from the bytes read and stores nothing', async () => {
      expect(payload.length).toBeGreaterThan(limit);

      const response = await harness.deliver(payload);

      expect(response.status).toBe(413);
      expect(await errorCodeOf(response)).toBe('payload_too_large');
      expect(await storedEventCount(harness.events)).toBe(0);
    });

    it('answers 413 when a streamed body without a length passes the limit', async () => {
      const bytes = new TextEncoder().encode(payload);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 256) controller.enqueue(bytes.slice(offset, offset + 256));
          controller.close();
        },
      });
      const request = new Request(`http://localhost${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'Stripe-Signature': signatureHeader(payload) },
        body: stream,
        duplex: 'half',
      });
      expect(request.headers.get('content-length')).toBeNull();

      const response = await harness.app.request(request);

      expect(response.status).toBe(413);
      expect(await errorCodeOf(response)).toBe('payload_too_large');
      expect(await storedEventCount(harness.events)).toBe(0);
    });

    it('reads a body of exactly the limit', async () => {
      const body = `{"padding":"${'x'.repeat(limit - 14)}"}`;
      expect(new TextEncoder().encode(body).length).toBe(limit);

      const response = await harness.deliver(body);

      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('not_a_stripe_event');
    });
  });

  describe('when the body is not a Stripe event', () => {
    it('answers 400 invalid_json for a signed body that is not JSON', async () => {
      const body = '{"id": "evt_1", ';

      const response = await harness.deliver(body);

      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.code).toBe('invalid_json');
      expect(error.message).not.toContain(body);
    });

    it('answers 400 invalid_json for a body that is not UTF-8', async () => {
      const response = await harness.app.request(WEBHOOK_PATH, {
        method: 'POST',
        headers: { 'Stripe-Signature': signatureHeader('x') },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      });

      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('invalid_json');
    });

    it('answers 400 not_a_stripe_event naming the missing field', async () => {
      const event = JSON.parse(payload) as Record<string, unknown>;
      delete event.type;
      const body = JSON.stringify(event);

      const response = await harness.deliver(body);

      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.code).toBe('not_a_stripe_event');
      expect(error.message).toContain('"type"');
      expect(await storedEventCount(harness.events)).toBe(0);
    });

    it('answers 400 not_a_stripe_event for a JSON array', async () => {
      const response = await harness.deliver('[]');

      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('not_a_stripe_event');
    });
  });

  describe('when the request uses another method', () => {
    it.each(['GET', 'PUT', 'DELETE'])('answers 405 to %s with Allow: POST', async (method) => {
      const response = await harness.app.request(WEBHOOK_PATH, { method });

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await errorCodeOf(response)).toBe('method_not_allowed');
    });
  });
});

describe('POST /webhooks/stripe when the store fails', () => {
  let harness: Harness;
  let injector: IngestFailureInjector;

  beforeEach(() => {
    harness = createHarness({
      wrapEvents: (events) => {
        injector = new IngestFailureInjector(events);
        return injector;
      },
    });
  });
  afterEach(async () => {
    await harness.close();
  });

  it('answers 503 and accepts the redelivery after recovery', async () => {
    injector.failing = true;

    const failed = await harness.deliver(payload);

    expect(failed.status).toBe(503);
    expect(await errorCodeOf(failed)).toBe('store_unavailable');
    expect(await harness.events.get(eventId)).toBeNull();

    injector.failing = false;
    const redelivered = await harness.deliver(payload);

    expect(await redelivered.text()).toBe('{"received":true}');
    expect((await harness.events.get(eventId))?.payload).toBe(payload);
  });

  it('promises only the redelivery', async () => {
    injector.failing = true;

    const failed = await harness.deliver(payload);

    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({
      error: { code: 'store_unavailable', message: 'The event could not be confirmed as recorded; Stripe will deliver it again.' },
    });
  });

  it('answers 503 for an unexpected error from the store as well', async () => {
    injector.failing = true;
    injector.failure = () => new Error('socket hang up at /var/lib/secret-path');

    const response = await harness.deliver(payload);

    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).toContain('store_unavailable');
    expect(text).not.toContain('socket hang up');
  });

  it('logs the failure at error with the event id', async () => {
    injector.failing = true;

    await harness.deliver(payload);

    const line = harness.logLines.find((entry) => entry.includes('"event store unavailable"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 50, eventId, eventType: 'payment_intent.succeeded', code: 'store_unavailable' });
  });
});

describe('POST /webhooks/stripe when the database is closed', () => {
  it('answers 503 and accepts the redelivery once the store is reopened', async () => {
    const first = createHarness();
    const databasePath = first.store.database.name;
    await first.store.close();

    const failed = await first.deliver(payload);

    expect(failed.status).toBe(503);
    expect(await errorCodeOf(failed)).toBe('store_unavailable');

    const reopened = createHarness({ databasePath });
    try {
      const redelivered = await reopened.deliver(payload);

      expect(await redelivered.text()).toBe('{"received":true}');
      expect((await reopened.events.get(eventId))?.payload).toBe(payload);
    } finally {
      await reopened.close();
      await first.close();
    }
  });
});
