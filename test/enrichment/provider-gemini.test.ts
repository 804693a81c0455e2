import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGeminiProvider } from '../../src/enrichment/providers/gemini.js';
import { runAiTask, type AiTaskResult } from '../../src/enrichment/run-task.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS, capturingLogger, reasonOf, taskHarness } from './support/harness.js';
import { MockProviderServer, jsonBody, type MockReply } from './support/mock-server.js';
import { VALID_ADVICE, geminiError, geminiSuccess } from './support/provider-replies.js';

const MODEL = 'gemini-test-flash';
const GENERATE_PATH = `/v1beta/models/${MODEL}:generateContent`;
const dispute = loadFixture('charge.dispute.created');

let server: MockProviderServer;
const captured = capturingLogger();

beforeAll(async () => {
  server = await MockProviderServer.start(() => geminiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

async function run(reply: MockReply, timeoutMs = 2000): Promise<AiTaskResult> {
  server.respondWith(() => reply);
  const provider = createGeminiProvider({ apiKey: TEST_KEYS.gemini, model: MODEL, baseUrl: server.url, timeoutMs: 10_000 });
  return runAiTask('dispute_summary', { eventType: 'charge.dispute.created', payload: dispute }, taskHarness(provider, captured.logger, { timeoutMs }));
}

describe('Gemini provider', () => {
  it('returns validated advice', async () => {
    const result = await run(geminiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));

    expect(result).toMatchObject({ outcome: 'ok', advice: VALID_ADVICE.dispute_summary, model: 'gemini-test-001' });
  });

  it('sends generateContent with the key header and a JSON schema', async () => {
    await run(geminiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));

    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(GENERATE_PATH);
    expect(request.headers['x-goog-api-key']).toBe(TEST_KEYS.gemini);
    expect(request.url).not.toContain(TEST_KEYS.gemini);

    const body = jsonBody(request) as {
      contents: { role: string; parts: { text: string }[] }[];
      systemInstruction: { parts: { text: string }[] };
      generationConfig: { responseMimeType: string; responseJsonSchema: { required: string[]; additionalProperties: boolean }; temperature: number };
    };
    expect(body.contents).toHaveLength(1);
    expect(body.contents[0]?.role).toBe('user');
    expect(body.contents[0]?.parts[0]?.text).toContain('Event type: charge.dispute.created');
    expect(body.systemInstruction.parts[0]?.text).toContain('Answer with exactly one JSON object');
    expect(body.generationConfig.responseMimeType).toBe('application/json');
    expect(body.generationConfig.responseJsonSchema.required).toEqual(['summary', 'priority', 'riskLevel', 'recommendedActions']);
    expect(body.generationConfig.responseJsonSchema.additionalProperties).toBe(false);
    expect(body.generationConfig.temperature).toBe(0);
  });

  it('records HTTP 429 as retryable with the RetryInfo delay', async () => {
    const result = await run(
      geminiError(429, 'RESOURCE_EXHAUSTED', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '38s' }]),
    );

    expect(result).toMatchObject({ outcome: 'failed', retryable: true, retryAfterMs: 38_000 });
    expect(result).toMatchObject({ outcome: 'failed', error: 'Gemini returned HTTP 429 (RESOURCE_EXHAUSTED).' });
    // SDK retries are off: the queue's own backoff decides when to call again.
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [500, 'INTERNAL'],
    [503, 'UNAVAILABLE'],
  ])('records HTTP %i as a retryable failure', async (status, rpcStatus) => {
    const result = await run(geminiError(status, rpcStatus));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true, retryAfterMs: null });
    expect(server.requests).toHaveLength(1);
  });

  it('records an invalid key as a failure not worth retrying', async () => {
    const result = await run(geminiError(400, 'INVALID_ARGUMENT', [{ reason: 'API_KEY_INVALID' }]));

    expect(result).toMatchObject({ outcome: 'failed', retryable: false });
  });

  it('records an answer that is not JSON as unavailable', async () => {
    const result = await run(geminiSuccess('{"summary": "cut off'));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'the reply is not valid JSON' });
  });

  it('records a body that is not JSON as unavailable', async () => {
    const result = await run({ status: 200, text: '<html>proxy error</html>', contentType: 'application/json' });

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'Gemini returned a body that is not JSON.' });
  });

  it('records an answer that breaks the schema as unavailable', async () => {
    const result = await run(geminiSuccess(JSON.stringify({ ...VALID_ADVICE.dispute_summary, priority: 'critical' })));

    expect(result.outcome).toBe('unavailable');
    expect(reasonOf(result)).toContain('priority');
  });

  it('records a truncated answer as unavailable', async () => {
    const result = await run(geminiSuccess('{"summary":', { finishReason: 'MAX_TOKENS' }));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'Gemini stopped with finish reason MAX_TOKENS' });
  });

  it('records a blocked prompt as unavailable', async () => {
    const result = await run({ status: 200, json: { promptFeedback: { blockReason: 'SAFETY' }, modelVersion: 'gemini-test-001' } });

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'Gemini blocked the prompt (SAFETY)' });
  });

  it('times out a hung request and closes its connection', async () => {
    const result = await run({ hang: true }, 200);

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(result).toMatchObject({ outcome: 'failed', error: 'The call to gemini timed out after 200 ms.' });
    await vi.waitFor(() => expect(server.requests[0]?.clientClosedEarly).toBe(true));
  });

  it('keeps the API key out of logs and results', async () => {
    const results = [await run(geminiError(429, 'RESOURCE_EXHAUSTED')), await run(geminiError(403, 'PERMISSION_DENIED'))];

    expect(captured.lines()).not.toContain(TEST_KEYS.gemini);
    expect(JSON.stringify(results)).not.toContain(TEST_KEYS.gemini);
  });
});
