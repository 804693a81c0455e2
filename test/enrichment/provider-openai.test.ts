import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOpenAiProvider } from '../../src/enrichment/providers/openai.js';
import { runAiTask, type AiTaskResult } from '../../src/enrichment/run-task.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS, capturingLogger, reasonOf, taskHarness } from './support/harness.js';
import { MockProviderServer, jsonBody, type MockReply } from './support/mock-server.js';
import { VALID_ADVICE, openAiError, openAiSuccess } from './support/provider-replies.js';

const MODEL = 'test-model';
const invoiceFailed = loadFixture('invoice.payment_failed');

let server: MockProviderServer;
const captured = capturingLogger();

beforeAll(async () => {
  server = await MockProviderServer.start(() => openAiSuccess(JSON.stringify(VALID_ADVICE.failed_payment_outreach_draft)));
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

async function run(reply: MockReply, options: { timeoutMs?: number; apiKey?: string | undefined } = {}): Promise<AiTaskResult> {
  server.respondWith(() => reply);
  const apiKey = 'apiKey' in options ? options.apiKey : TEST_KEYS.openai;
  const provider = createOpenAiProvider({ apiKey, model: MODEL, baseUrl: `${server.url}/v1`, timeoutMs: 10_000 });
  const harness = taskHarness(provider, captured.logger, { timeoutMs: options.timeoutMs ?? 2000 });
  return runAiTask('failed_payment_outreach_draft', { eventType: 'invoice.payment_failed', payload: JSON.stringify(invoiceFailed) }, harness);
}

describe('OpenAI-compatible provider', () => {
  it('returns validated advice', async () => {
    const result = await run(openAiSuccess(JSON.stringify(VALID_ADVICE.failed_payment_outreach_draft)));

    expect(result).toMatchObject({ outcome: 'ok', advice: VALID_ADVICE.failed_payment_outreach_draft, model: 'test-model-2026' });
  });

  it('sends chat completions with a bearer key and a strict JSON schema', async () => {
    await run(openAiSuccess(JSON.stringify(VALID_ADVICE.failed_payment_outreach_draft)));

    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(`Bearer ${TEST_KEYS.openai}`);

    const body = jsonBody(request) as {
      model: string;
      messages: { role: string; content: string }[];
      response_format: { type: string; json_schema: { name: string; strict: boolean; schema: { required: string[] } } };
    };
    expect(body.model).toBe(MODEL);
    expect(body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(body.messages[1]?.content).toContain('Event type: invoice.payment_failed');
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema).toMatchObject({ name: 'failed_payment_outreach_draft', strict: true });
    expect(body.response_format.json_schema.schema.required).toEqual(['summary', 'priority', 'subject', 'draft']);
  });

  it('works without a key for local servers', async () => {
    const result = await run(openAiSuccess(JSON.stringify(VALID_ADVICE.failed_payment_outreach_draft)), { apiKey: undefined });

    expect(result.outcome).toBe('ok');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer not-set');
  });

  it('records HTTP 429 as retryable with the Retry-After delay', async () => {
    const result = await run(openAiError(429, 'rate_limit_exceeded', { 'retry-after': '7' }));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true, retryAfterMs: 7000 });
    expect(result).toMatchObject({ outcome: 'failed', error: 'The OpenAI-compatible server returned HTTP 429 (rate_limit_exceeded).' });
    // maxRetries is 0, so the SDK made exactly one request.
    expect(server.requests).toHaveLength(1);
  });

  it.each([500, 503])('records HTTP %i as a retryable failure', async (status) => {
    const result = await run(openAiError(status, 'server_error'));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('records HTTP 401 as a failure not worth retrying', async () => {
    const result = await run(openAiError(401, 'invalid_api_key'));

    expect(result).toMatchObject({ outcome: 'failed', retryable: false });
  });

  it('records an answer that is not JSON as unavailable', async () => {
    const result = await run(openAiSuccess('Sure! Here is the draft: Dear customer…'));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'the reply is not valid JSON' });
  });

  it('records a body that is not JSON as unavailable', async () => {
    const cutOff = await run({ status: 200, text: '{"choices": [', contentType: 'application/json' });
    const html = await run({ status: 200, text: '<html>proxy error</html>', contentType: 'text/html' });

    expect(cutOff).toMatchObject({ outcome: 'unavailable', reason: 'The server returned a body that is not JSON.' });
    expect(html).toMatchObject({ outcome: 'unavailable', reason: 'The server returned a body without choices.' });
  });

  it('records an answer that breaks the schema as unavailable', async () => {
    const tooLong = { ...VALID_ADVICE.failed_payment_outreach_draft, draft: 'x'.repeat(1501) };
    const result = await run(openAiSuccess(JSON.stringify(tooLong)));

    expect(result.outcome).toBe('unavailable');
    expect(reasonOf(result)).toContain('draft');
  });

  it('records a draft with a link as unavailable', async () => {
    const withLink = { ...VALID_ADVICE.failed_payment_outreach_draft, draft: 'Pay now at https://pay.example.net/update' };
    const result = await run(openAiSuccess(JSON.stringify(withLink)));

    expect(result.outcome).toBe('unavailable');
    expect(reasonOf(result)).toContain('links');
  });

  it('records a refusal and a truncated answer as unavailable', async () => {
    const refused = await run(openAiSuccess(null, { refusal: 'I cannot help with that.' }));
    const truncated = await run(openAiSuccess('{"summary": "', { finishReason: 'length' }));

    expect(refused).toMatchObject({ outcome: 'unavailable', reason: 'the model refused to answer' });
    expect(truncated).toMatchObject({ outcome: 'unavailable', reason: 'the model stopped with finish reason length' });
  });

  it('times out a hung request and closes its connection', async () => {
    const result = await run({ hang: true }, { timeoutMs: 200 });

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(result).toMatchObject({ outcome: 'failed', error: 'The call to openai timed out after 200 ms.' });
    await vi.waitFor(() => expect(server.requests[0]?.clientClosedEarly).toBe(true));
    expect(server.requests).toHaveLength(1);
  });

  it('records a refused connection as a retryable network failure', async () => {
    const closed = await MockProviderServer.start(() => openAiSuccess('{}'));
    const url = closed.url;
    await closed.close();
    const provider = createOpenAiProvider({ apiKey: TEST_KEYS.openai, model: MODEL, baseUrl: `${url}/v1`, timeoutMs: 5000 });

    const result = await runAiTask('failed_payment_outreach_draft', { eventType: 'invoice.payment_failed', payload: invoiceFailed }, taskHarness(provider, captured.logger));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
  });

  it('keeps the API key out of logs and results', async () => {
    const results = [await run(openAiError(401, 'invalid_api_key')), await run({ hang: true }, { timeoutMs: 150 })];

    expect(captured.lines()).not.toContain(TEST_KEYS.openai);
    expect(JSON.stringify(results)).not.toContain(TEST_KEYS.openai);
  });
});
