import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderBreakers } from '../../src/enrichment/breaker.js';
import { findEnrichment, findEnrichments } from '../../src/enrichment/ledger-store.js';
import type { EnrichmentCallOutcome } from '../../src/enrichment/process-job.js';
import { createManusProvider } from '../../src/enrichment/providers/manus.js';
import { createOpenAiProvider } from '../../src/enrichment/providers/openai.js';
import { SqliteEnrichmentQueue } from '../../src/enrichment/queue/sqlite-queue.js';
import { ledgerEnrichmentResults } from '../../src/enrichment/results.js';
import { EnrichmentRunner } from '../../src/enrichment/runner.js';
import type { AiProvider } from '../../src/enrichment/types.js';
import { createSilentLogger } from '../../src/logger.js';
import { openSqliteLedger, type SqliteLedger } from './support/databases.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS } from './support/harness.js';
import { MockProviderServer, type MockHandler } from './support/mock-server.js';
import {
  MANUS_ENDLESS_TASK,
  MANUS_FAILED_TASK,
  VALID_ADVICE,
  manusHandler,
  manusStoppedWith,
  openAiError,
  openAiSuccess,
} from './support/provider-replies.js';
import { request } from './support/queue-contract.js';

const logger = createSilentLogger();
const POLL_MS = 60_000;
const TASK_TIMEOUT_MS = 150_000;
const dispute = loadFixture('charge.dispute.created');

let server: MockProviderServer;
let database: SqliteLedger;
let databaseNumber = 0;

beforeAll(async () => {
  server = await MockProviderServer.start(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
});
afterAll(async () => {
  await server.close();
});

interface Env {
  readonly runner: EnrichmentRunner;
  readonly queue: SqliteEnrichmentQueue;
  readonly breakers: ProviderBreakers;
  readonly calls: EnrichmentCallOutcome[];
  advance(ms: number): void;
  now(): number;
}

function openAiProvider(): AiProvider {
  return createOpenAiProvider({ apiKey: TEST_KEYS.openai, model: 'test-model', baseUrl: `${server.url}/v1`, timeoutMs: 5000 });
}

function manusProvider(): AiProvider {
  return createManusProvider({ apiKey: TEST_KEYS.manus, baseUrl: server.url, agentProfile: 'manus-1.6-lite', logger });
}

/** Builds a runner on a fresh SQLite ledger and queue, with a clock the test moves by hand. */
function environment(handler: MockHandler, provider: AiProvider, options: { concurrency?: number; timeoutMs?: number; breakerFailures?: number } = {}): Env {
  server.respondWith(handler);
  let now = 1_790_000_000_000;
  const clock = (): number => now;
  const queue = new SqliteEnrichmentQueue(database.sqlite, { clock });
  const breakers = new ProviderBreakers({ timeoutMs: options.timeoutMs ?? 2000, breakerFailures: options.breakerFailures ?? 3, breakerResetMs: 60_000 }, logger);
  const calls: EnrichmentCallOutcome[] = [];
  const events = new Map([['evt_1RunnerDispute0001', dispute], ['evt_1RunnerDispute0002', dispute]]);
  const runner = new EnrichmentRunner({
    queue,
    provider,
    breakers,
    results: ledgerEnrichmentResults(database.ledger, clock),
    loadEvent: (eventId) => {
      const event = events.get(eventId);
      return event === undefined ? null : { type: 'charge.dispute.created', payload: JSON.stringify(event) };
    },
    logger,
    callTimeoutMs: options.timeoutMs ?? 2000,
    pendingTask: { pollIntervalMs: POLL_MS, timeoutMs: TASK_TIMEOUT_MS },
    clock,
    concurrency: options.concurrency ?? 1,
    idlePollMs: 10,
    retry: { random: () => 0.5 },
    onCall: (_provider, outcome) => calls.push(outcome),
  });
  return { runner, queue, breakers, calls, advance: (ms) => (now += ms), now: clock };
}

beforeEach(async () => {
  server.requests.length = 0;
  databaseNumber += 1;
  database = await openSqliteLedger(`runner-${databaseNumber}`);
});
afterEach(async () => {
  await database.close();
});

describe('enrichment runner', () => {
  it('calls the provider once per event and task', async () => {
    const env = environment(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)), openAiProvider());

    await env.queue.enqueue(request('evt_1RunnerDispute0001'));
    expect(await env.runner.processNext()).toBe(true);
    // A redelivered or replayed event requests enrichment again after the first job finished.
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));
    expect(await env.runner.processNext()).toBe(true);

    expect(server.requests).toHaveLength(1);
    const records = await findEnrichments(database.ledger, 'evt_1RunnerDispute0001');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ok', provider: 'openai', model: 'test-model-2026', advice: VALID_ADVICE.dispute_summary, error: null });
    expect(await env.queue.count()).toBe(0);
    expect(env.calls).toEqual(['ok']);
  });

  it('retries a failing call with backoff, then records the failure', async () => {
    const env = environment(() => openAiError(503, 'overloaded'), openAiProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();
    env.advance(4999);
    expect(await env.runner.processNext()).toBe(false);
    env.advance(1);
    expect(await env.runner.processNext()).toBe(true);
    env.advance(9999);
    expect(await env.runner.processNext()).toBe(false);
    env.advance(1);
    expect(await env.runner.processNext()).toBe(true);

    expect(server.requests).toHaveLength(3);
    expect(env.calls).toEqual(['retry', 'retry', 'failed']);
    const record = await findEnrichment(database.ledger, 'evt_1RunnerDispute0001', 'dispute_summary');
    expect(record).toMatchObject({ outcome: 'failed', advice: null, error: 'The OpenAI-compatible server returned HTTP 503 (overloaded).' });
    expect(await env.queue.count()).toBe(0);
  });

  it("waits as long as the provider's Retry-After asks", async () => {
    const env = environment(() => openAiError(429, 'rate_limit_exceeded', { 'retry-after': '20' }), openAiProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();
    env.advance(19_999);
    expect(await env.runner.processNext()).toBe(false);
    env.advance(1);

    expect(await env.runner.processNext()).toBe(true);
  });

  it('records a failure not worth retrying at once', async () => {
    const env = environment(() => openAiError(401, 'invalid_api_key'), openAiProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();

    expect(server.requests).toHaveLength(1);
    expect((await findEnrichment(database.ledger, 'evt_1RunnerDispute0001', 'dispute_summary'))?.outcome).toBe('failed');
  });

  it('records an event missing from the event store as unavailable', async () => {
    const env = environment(() => openAiSuccess('{}'), openAiProvider());
    await env.queue.enqueue(request('evt_1RunnerMissing0001'));

    await env.runner.processNext();

    expect(server.requests).toHaveLength(0);
    const record = await findEnrichment(database.ledger, 'evt_1RunnerMissing0001', 'dispute_summary');
    expect(record).toMatchObject({ outcome: 'unavailable', error: 'the event was not found in the event store' });
  });

  it('skips an open breaker, runs later', async () => {
    const env = environment(() => openAiError(401, 'invalid_api_key'), openAiProvider(), { breakerFailures: 1 });
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));
    await env.runner.processNext();
    expect(env.breakers.states()).toEqual({ openai: 'open' });

    await env.queue.enqueue(request('evt_1RunnerDispute0002'));
    await env.runner.processNext();
    const skipped = await findEnrichment(database.ledger, 'evt_1RunnerDispute0002', 'dispute_summary');
    expect(skipped).toMatchObject({ outcome: 'skipped_breaker_open', latencyMs: 0 });
    expect(server.requests).toHaveLength(1);

    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60_000);
      server.respondWith(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
      await env.queue.enqueue(request('evt_1RunnerDispute0002'));
      await env.runner.processNext();
    } finally {
      vi.useRealTimers();
    }

    expect((await findEnrichment(database.ledger, 'evt_1RunnerDispute0002', 'dispute_summary'))?.outcome).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('lets the job in progress finish on stop', async () => {
    const env = environment(() => ({ hang: true }), openAiProvider(), { timeoutMs: 300 });
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));
    env.runner.start();
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));

    await env.runner.stop();

    // The timed-out call was handled before stop resolved: its retry is scheduled, not lost.
    expect(env.calls).toEqual(['retry']);
    expect(await env.queue.claim({ leaseMs: 1000 })).toBeNull();
    env.advance(5000);
    expect(await env.queue.claim({ leaseMs: 1000 })).toMatchObject({ attempt: 2 });
  });
});

describe('enrichment runner with Manus', () => {
  it('polls a task between waits and records its advice', async () => {
    const env = environment(manusHandler(() => manusStoppedWith(VALID_ADVICE.dispute_summary)), manusProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();
    expect(await env.runner.processNext()).toBe(false);
    env.advance(POLL_MS);
    await env.runner.processNext();
    env.advance(POLL_MS);
    await env.runner.processNext();

    expect(server.requests.map((sent) => sent.path)).toEqual(['/v2/task.create', '/v2/task.detail', '/v2/task.detail', '/v2/task.listMessages']);
    expect(env.calls).toEqual(['pending', 'pending', 'ok']);
    const record = await findEnrichment(database.ledger, 'evt_1RunnerDispute0001', 'dispute_summary');
    expect(record).toMatchObject({ outcome: 'ok', provider: 'manus', model: 'manus-1.6-lite', latencyMs: 2 * POLL_MS });
  });

  it('does not hold a slot while a task runs', async () => {
    const env = environment(manusHandler(() => MANUS_ENDLESS_TASK), manusProvider(), { concurrency: 1 });
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));
    await env.queue.enqueue(request('evt_1RunnerDispute0002'));

    env.runner.start();
    try {
      // One slot, two tasks: the second task starts while the first one is still running.
      await vi.waitFor(() => expect(server.requestsTo('/v2/task.create')).toHaveLength(2));
    } finally {
      await env.runner.stop();
    }

    expect(await env.queue.count()).toBe(2);
    expect(await env.queue.claim({ leaseMs: 1000 })).toBeNull();
  });

  it('gives up on a task that never finishes and stops it', async () => {
    const env = environment(manusHandler(() => MANUS_ENDLESS_TASK), manusProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();
    for (let elapsed = 0; elapsed < TASK_TIMEOUT_MS; ) {
      const step = Math.min(POLL_MS, TASK_TIMEOUT_MS - elapsed);
      env.advance(step);
      elapsed += step;
      expect(await env.runner.processNext()).toBe(true);
    }

    const record = await findEnrichment(database.ledger, 'evt_1RunnerDispute0001', 'dispute_summary');
    expect(record).toMatchObject({ outcome: 'unavailable', error: `the manus task did not finish within ${TASK_TIMEOUT_MS} ms`, latencyMs: TASK_TIMEOUT_MS });
    expect(server.requestsTo('/v2/task.detail')).toHaveLength(2);
    expect(server.requestsTo('/v2/task.stop')).toHaveLength(1);
    expect(await env.queue.count()).toBe(0);
  });

  it('records a failed task as unavailable', async () => {
    const env = environment(manusHandler(() => MANUS_FAILED_TASK), manusProvider());
    await env.queue.enqueue(request('evt_1RunnerDispute0001'));

    await env.runner.processNext();
    env.advance(POLL_MS);
    await env.runner.processNext();
    env.advance(POLL_MS);
    await env.runner.processNext();

    const record = await findEnrichment(database.ledger, 'evt_1RunnerDispute0001', 'dispute_summary');
    expect(record).toMatchObject({ outcome: 'unavailable', error: 'the Manus task ended with an error (agent_failure)' });
  });
});
