import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderBreakers } from '../../src/enrichment/breaker.js';
import { createOpenAiProvider } from '../../src/enrichment/providers/openai.js';
import { runAiTask, type AiTaskResult } from '../../src/enrichment/run-task.js';
import type { AiProviderName, BreakerStateName } from '../../src/enrichment/types.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS, capturingLogger } from './support/harness.js';
import { MockProviderServer } from './support/mock-server.js';
import { VALID_ADVICE, openAiError, openAiSuccess } from './support/provider-replies.js';

const RESET_MS = 60_000;
const dispute = loadFixture('charge.dispute.created');

let server: MockProviderServer;

beforeAll(async () => {
  server = await MockProviderServer.start(() => openAiError(503, 'overloaded'));
});
afterAll(async () => {
  await server.close();
});

describe('circuit breaker', () => {
  let breakers: ProviderBreakers;
  let changes: [AiProviderName, BreakerStateName][];
  let captured: ReturnType<typeof capturingLogger>;

  beforeEach(() => {
    // Only Date is faked: cockatiel reads Date.now() to decide when the circuit may half-open,
    // while the HTTP calls to the mock keep using real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-09-01T10:00:00.000Z'));
    server.requests.length = 0;
    server.respondWith(() => openAiError(503, 'overloaded'));
    changes = [];
    captured = capturingLogger();
    breakers = new ProviderBreakers({ timeoutMs: 200, breakerFailures: 3, breakerResetMs: RESET_MS }, captured.logger, (provider, state) =>
      changes.push([provider, state]),
    );
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function call(): Promise<AiTaskResult> {
    const provider = createOpenAiProvider({ apiKey: TEST_KEYS.openai, model: 'test-model', baseUrl: `${server.url}/v1`, timeoutMs: 5000 });
    return runAiTask('dispute_summary', { eventType: 'charge.dispute.created', payload: dispute }, { provider, breakers });
  }

  async function openCircuit(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await call()).outcome).toBe('failed');
  }

  it('opens after three consecutive failures', async () => {
    await call();
    await call();
    expect(breakers.states()).toEqual({ openai: 'closed' });

    await call();

    expect(breakers.states()).toEqual({ openai: 'open' });
    expect(changes).toEqual([
      ['openai', 'closed'],
      ['openai', 'open'],
    ]);
  });

  it('rejects calls at once while open', async () => {
    await openCircuit();
    expect(server.requests).toHaveLength(3);

    const rejected = await call();
    vi.setSystemTime(Date.now() + RESET_MS - 1);
    const stillRejected = await call();

    expect(rejected).toMatchObject({ outcome: 'skipped_breaker_open', latencyMs: 0 });
    expect(stillRejected.outcome).toBe('skipped_breaker_open');
    expect(server.requests).toHaveLength(3);
  });

  it('closes after a successful trial call', async () => {
    await openCircuit();
    server.respondWith(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
    vi.setSystemTime(Date.now() + RESET_MS);

    const trial = await call();

    expect(trial.outcome).toBe('ok');
    expect(server.requests).toHaveLength(4);
    expect(breakers.states()).toEqual({ openai: 'closed' });
    expect(changes.map(([, state]) => state)).toEqual(['closed', 'open', 'half_open', 'closed']);
  });

  it('opens again when the trial call fails', async () => {
    await openCircuit();
    vi.setSystemTime(Date.now() + RESET_MS);

    const trial = await call();
    const next = await call();

    expect(trial.outcome).toBe('failed');
    expect(next.outcome).toBe('skipped_breaker_open');
    expect(server.requests).toHaveLength(4);
    expect(breakers.states()).toEqual({ openai: 'open' });
  });

  it('counts timeouts as failures', async () => {
    server.respondWith(() => ({ hang: true }));

    await openCircuit();

    expect(breakers.states()).toEqual({ openai: 'open' });
  });

  it('starts counting again after a success', async () => {
    await call();
    await call();
    server.respondWith(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
    await call();
    server.respondWith(() => openAiError(503, 'overloaded'));
    await call();
    await call();

    expect(breakers.states()).toEqual({ openai: 'closed' });
  });

  it('logs every state change with the provider', async () => {
    await openCircuit();
    vi.setSystemTime(Date.now() + RESET_MS);
    server.respondWith(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
    await call();

    const logged = captured
      .lines()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; provider?: string; state?: string; level: number })
      .filter((line) => line.msg === 'circuit breaker state changed');
    expect(logged.map((line) => [line.provider, line.state])).toEqual([
      ['openai', 'open'],
      ['openai', 'half_open'],
      ['openai', 'closed'],
    ]);
    // The opening is a warning; the recovery steps are informational.
    expect(logged.map((line) => line.level)).toEqual([40, 30, 30]);
  });
});
