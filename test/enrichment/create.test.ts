import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createEnrichment, type EnrichmentDeps } from '../../src/enrichment/create.js';
import { EnrichmentSetupError } from '../../src/enrichment/errors.js';
import { findEnrichment } from '../../src/enrichment/ledger-store.js';
import { enrichmentRequestFor } from '../../src/enrichment/ports.js';
import { BullMqEnrichmentQueue } from '../../src/enrichment/queue/bullmq-queue.js';
import type { Decision } from '../../src/decision/types.js';
import { SqliteEnrichmentQueue } from '../../src/enrichment/queue/sqlite-queue.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { deleteRedisKeys, openSqliteLedger, requireRedis, type SqliteLedger } from './support/databases.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS, capturingLogger, testConfig } from './support/harness.js';
import { MockProviderServer } from './support/mock-server.js';
import { VALID_ADVICE, openAiSuccess } from './support/provider-replies.js';
import { request } from './support/queue-contract.js';

const dispute = loadFixture('charge.dispute.created');
const REDIS_PREFIX = `test-enrichment-create-${process.pid}-${Date.now()}`;

let server: MockProviderServer;
let database: SqliteLedger;
let databaseNumber = 0;

beforeAll(async () => {
  server = await MockProviderServer.start(() => openAiSuccess(JSON.stringify(VALID_ADVICE.dispute_summary)));
});
afterAll(async () => {
  await server.close();
  await deleteRedisKeys(REDIS_PREFIX);
});
beforeEach(async () => {
  server.requests.length = 0;
  databaseNumber += 1;
  database = await openSqliteLedger(`create-${databaseNumber}`);
});
afterEach(async () => {
  await database.close();
});

function openAiEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: TEST_KEYS.openai,
    OPENAI_MODEL: 'test-model',
    OPENAI_BASE_URL: `${server.url}/v1`,
    ...extra,
  };
}

function deps(logger = capturingLogger().logger): EnrichmentDeps<LedgerDatabase> {
  return {
    logger,
    ledger: database.ledger,
    sqlite: database.sqlite,
    loadEvent: () => ({ type: 'charge.dispute.created', payload: dispute }),
  };
}

describe('createEnrichment', () => {
  it('creates nothing when AI_PROVIDER is none', async () => {
    const enrichment = createEnrichment(testConfig({ AI_PROVIDER: 'none' }), deps());

    await enrichment.request(request('evt_1CreateNone0001'));

    expect(enrichment.queue).toBeNull();
    expect(enrichment.runner).toBeNull();
    expect(enrichment.breakerStates()).toEqual({});
    const table = database.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'pipeline_enrichment_jobs'").get();
    expect(table).toBeUndefined();
    expect(server.requests).toHaveLength(0);
    await enrichment.close();
  });

  it('runs a requested enrichment through to the ledger', async () => {
    const states: [string, string][] = [];
    const calls: [string, string][] = [];
    const enrichment = createEnrichment(testConfig(openAiEnv()), {
      ...deps(),
      onBreakerStateChange: (provider, state) => states.push([provider, state]),
      onCall: (provider, outcome) => calls.push([provider, outcome]),
    });

    await enrichment.request(request('evt_1CreateOpenAi0001'));
    const processed = await enrichment.runner?.processNext();

    expect(enrichment.queue).toBeInstanceOf(SqliteEnrichmentQueue);
    expect(processed).toBe(true);
    expect(await findEnrichment(database.ledger, 'evt_1CreateOpenAi0001', 'dispute_summary')).toMatchObject({ outcome: 'ok', provider: 'openai' });
    expect(enrichment.breakerStates()).toEqual({ openai: 'closed' });
    expect(states).toEqual([['openai', 'closed']]);
    expect(calls).toEqual([['openai', 'ok']]);
    await enrichment.close();
  });

  it('logs a failed enqueue instead of throwing it', async () => {
    const captured = capturingLogger();
    const calls: string[] = [];
    const enrichment = createEnrichment(testConfig(openAiEnv()), { ...deps(captured.logger), onCall: (_provider, outcome) => calls.push(outcome) });
    database.sqlite.exec('DROP TABLE pipeline_enrichment_jobs');

    await expect(enrichment.request(request('evt_1CreateBroken0001'))).resolves.toBeUndefined();

    expect(captured.lines()).toContain('enrichment enqueue failed');
    expect(captured.lines()).toContain('evt_1CreateBroken0001');
    expect(calls).toEqual(['failed']);
    await enrichment.close();
  });

  it('needs a queue backend', () => {
    const withoutSqlite: EnrichmentDeps<LedgerDatabase> = { ...deps(), sqlite: undefined };

    expect(() => createEnrichment(testConfig(openAiEnv()), withoutSqlite)).toThrow(EnrichmentSetupError);
  });

  it('uses BullMQ when REDIS_URL is set', async () => {
    await requireRedis();
    const config = testConfig(
      openAiEnv({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', REDIS_KEY_PREFIX: REDIS_PREFIX }),
    );
    const enrichment = createEnrichment(config, deps());

    await enrichment.request(request('evt_1CreateRedis0001'));
    await enrichment.request(request('evt_1CreateRedis0001'));

    expect(enrichment.queue).toBeInstanceOf(BullMqEnrichmentQueue);
    expect(await enrichment.queue?.count()).toBe(1);
    await enrichment.runner?.processNext();
    expect(await findEnrichment(database.ledger, 'evt_1CreateRedis0001', 'dispute_summary')).toMatchObject({ outcome: 'ok' });
    await enrichment.close();
  });
});

describe('enrichmentRequestFor', () => {
  const envelope = { id: 'evt_1RequestFor0001', type: 'charge.dispute.created', created: 1_787_839_200, livemode: false, account: 'acct_1QfakeCoNNectAcc' };
  const decision: Decision = {
    action: 'request_manual_review',
    reason: 'A dispute needs a person.',
    priority: 'urgent',
    requiresAi: true,
    aiTask: 'dispute_summary',
    provider: null,
    retryable: true,
    metadata: {},
  };

  it('builds a request when AI is required', () => {
    expect(enrichmentRequestFor(envelope, decision)).toEqual({
      eventId: 'evt_1RequestFor0001',
      eventType: 'charge.dispute.created',
      task: 'dispute_summary',
      account: 'acct_1QfakeCoNNectAcc',
    });
  });

  it('returns null without an AI task', () => {
    expect(enrichmentRequestFor(envelope, { ...decision, requiresAi: false })).toBeNull();
    expect(enrichmentRequestFor(envelope, { ...decision, aiTask: null })).toBeNull();
  });
});
