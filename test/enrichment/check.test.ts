import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAiCheck } from '../../src/enrichment/check.js';
import { TEST_KEYS, capturingLogger, testConfig } from './support/harness.js';
import { MockProviderServer, jsonBody } from './support/mock-server.js';
import { MANUS_ENDLESS_TASK, VALID_ADVICE, geminiSuccess, manusHandler, manusStoppedWith, openAiError, openAiSuccess } from './support/provider-replies.js';

let server: MockProviderServer;
const captured = capturingLogger();

beforeAll(async () => {
  server = await MockProviderServer.start(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const openAiEnv = (): Record<string, string> => ({
  AI_PROVIDER: 'openai',
  OPENAI_API_KEY: TEST_KEYS.openai,
  OPENAI_MODEL: 'test-model',
  OPENAI_BASE_URL: `${server.url}/v1`,
});

const manusEnv = (): Record<string, string> => ({
  AI_PROVIDER: 'manus',
  MANUS_API_KEY: TEST_KEYS.manus,
  MANUS_BASE_URL: server.url,
  MANUS_POLL_INTERVAL_MS: '5000',
  MANUS_TASK_TIMEOUT_MS: '20000',
});

describe('runAiCheck', () => {
  it('returns the advice for a synthetic dispute', async () => {
    server.respondWith(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));

    const result = await runAiCheck(testConfig(openAiEnv()), captured.logger);

    expect(result).toMatchObject({ ok: true, provider: 'openai', model: 'test-model-2026', advice: VALID_ADVICE.dispute_summary });
    const user = (jsonBody(server.requests[0]!) as { messages: { content: string }[] }).messages[1]?.content;
    expect(user).toContain('Event type: charge.dispute.created');
    expect(user).toContain('"reason": "product_not_received"');
  });

  it('works with Gemini', async () => {
    server.respondWith(() => geminiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
    const config = testConfig({ AI_PROVIDER: 'gemini', GEMINI_API_KEY: TEST_KEYS.gemini, GEMINI_MODEL: 'gemini-test', GEMINI_BASE_URL: server.url });

    const result = await runAiCheck(config, captured.logger);

    expect(result).toMatchObject({ ok: true, provider: 'gemini' });
    expect(server.requests[0]?.path).toBe('/v1beta/models/gemini-test:generateContent');
  });

  it('explains a provider error', async () => {
    server.respondWith(() => openAiError(401, 'invalid_api_key'));

    const result = await runAiCheck(testConfig(openAiEnv()), captured.logger);

    expect(result).toEqual({ ok: false, provider: 'openai', error: 'The OpenAI-compatible server returned HTTP 401 (invalid_api_key).' });
    expect(captured.lines()).not.toContain(TEST_KEYS.openai);
  });

  it('explains an answer without usable advice', async () => {
    server.respondWith(() => openAiSuccess('not json'));

    const result = await runAiCheck(testConfig(openAiEnv()), captured.logger);

    expect(result).toEqual({ ok: false, provider: 'openai', error: 'The provider answered without usable advice: the reply is not valid JSON.' });
  });

  it('says that enrichment is off', async () => {
    const result = await runAiCheck(testConfig({ AI_PROVIDER: 'none' }), captured.logger);

    expect(result).toEqual({
      ok: false,
      provider: 'none',
      error: 'AI_PROVIDER is "none"; set it to gemini, openai or manus and set that provider\'s key and model.',
    });
    expect(server.requests).toHaveLength(0);
  });

  it('polls a Manus task until it finishes', async () => {
    server.respondWith(manusHandler(() => manusStoppedWith(VALID_ADVICE.dispute_summary)));
    let now = 1_790_000_000_000;
    const waits: number[] = [];

    const result = await runAiCheck(testConfig(manusEnv()), captured.logger, {
      clock: () => now,
      sleep: (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });

    expect(result).toMatchObject({ ok: true, provider: 'manus', latencyMs: 10_000 });
    expect(waits).toEqual([5000, 5000]);
  });

  it('stops a Manus task that outlasts the task timeout', async () => {
    server.respondWith(manusHandler(() => MANUS_ENDLESS_TASK));
    let now = 1_790_000_000_000;

    const result = await runAiCheck(testConfig(manusEnv()), captured.logger, {
      clock: () => now,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });

    expect(result).toEqual({ ok: false, provider: 'manus', error: 'The manus task did not finish within 20000 ms.' });
    expect(server.requestsTo('/v2/task.stop')).toHaveLength(1);
  });
});
