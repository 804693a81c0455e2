import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManusProvider } from '../../src/enrichment/providers/manus.js';
import { pollAiTask, runAiTask, type AiTaskResult } from '../../src/enrichment/run-task.js';
import type { AiProvider } from '../../src/enrichment/types.js';
import { loadFixture } from './support/events.js';
import { TEST_KEYS, capturingLogger, reasonOf, taskHarness, type TaskHarness } from './support/harness.js';
import { MockProviderServer, jsonBody, type MockHandler } from './support/mock-server.js';
import {
  MANUS_FAILED_TASK,
  VALID_ADVICE,
  manusError,
  manusHandler,
  manusStoppedWith,
  type ManusTaskScript,
} from './support/provider-replies.js';

const warning = loadFixture('radar.early_fraud_warning.created');
const subject = { eventType: 'radar.early_fraud_warning.created', payload: warning };

let server: MockProviderServer;
const captured = capturingLogger();

beforeAll(async () => {
  server = await MockProviderServer.start(manusHandler(() => manusStoppedWith(VALID_ADVICE.fraud_risk_assessment)));
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

function harness(handler: MockHandler, timeoutMs = 2000): TaskHarness {
  server.respondWith(handler);
  const provider: AiProvider = createManusProvider({ apiKey: TEST_KEYS.manus, baseUrl: server.url, agentProfile: 'manus-1.6-lite', logger: captured.logger });
  return taskHarness(provider, captured.logger, { timeoutMs });
}

/** Starts a task and polls it until it is no longer pending, at most `maxPolls` times. */
async function runToEnd(deps: TaskHarness, maxPolls = 5): Promise<AiTaskResult> {
  let result = await runAiTask('fraud_risk_assessment', subject, deps);
  for (let poll = 0; poll < maxPolls && result.outcome === 'pending'; poll += 1) {
    result = await pollAiTask('fraud_risk_assessment', result.pending, deps);
  }
  return result;
}

function scripted(script: ManusTaskScript): MockHandler {
  return manusHandler(() => script);
}

describe('Manus provider', () => {
  it('creates a private, non-interactive task and returns pending', async () => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(scripted(manusStoppedWith(VALID_ADVICE.fraud_risk_assessment))));

    expect(result).toMatchObject({ outcome: 'pending', model: 'manus-1.6-lite', pending: { taskId: 'task_1' } });
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v2/task.create');
    expect(request.headers['x-manus-api-key']).toBe(TEST_KEYS.manus);
    expect(request.headers['content-type']).toBe('application/json');

    const body = jsonBody(request) as { message: { content: string }; structured_output_schema: { required: string[] } } & Record<string, unknown>;
    expect(body.message.content).toContain('Answer with exactly one JSON object');
    expect(body.message.content).toContain('Event type: radar.early_fraud_warning.created');
    expect(body).toMatchObject({ agent_profile: 'manus-1.6-lite', interactive_mode: false, hide_in_task_list: true, share_visibility: 'private' });
    expect(body.structured_output_schema.required).toEqual(['summary', 'priority', 'riskLevel', 'signals']);
    expect(body).not.toHaveProperty('connectors');
  });

  it('stays pending while the task runs', async () => {
    const deps = harness(scripted({ statuses: ['running'], messages: [] }));
    const started = await runAiTask('fraud_risk_assessment', subject, deps);
    if (started.outcome !== 'pending') throw new Error(`expected pending, got ${started.outcome}`);

    const polled = await pollAiTask('fraud_risk_assessment', started.pending, deps);

    expect(polled).toMatchObject({ outcome: 'pending', pending: started.pending });
    const detail = server.requestsTo('/v2/task.detail');
    expect(detail).toHaveLength(1);
    expect(detail[0]?.query.get('task_id')).toBe('task_1');
    expect(detail[0]?.headers['x-manus-api-key']).toBe(TEST_KEYS.manus);
    expect(server.requestsTo('/v2/task.listMessages')).toHaveLength(0);
  });

  it('returns the structured output of a finished task', async () => {
    const result = await runToEnd(harness(scripted(manusStoppedWith(VALID_ADVICE.fraud_risk_assessment))));

    expect(result).toMatchObject({ outcome: 'ok', advice: VALID_ADVICE.fraud_risk_assessment, model: 'manus-1.6-lite' });
    const list = server.requestsTo('/v2/task.listMessages');
    expect(list).toHaveLength(1);
    expect(list[0]?.query.get('order')).toBe('desc');
  });

  it('reads the assistant message when there is no structured output', async () => {
    const script: ManusTaskScript = {
      statuses: ['stopped'],
      messages: [
        { id: 'm2', type: 'status_update', status_update: { agent_status: 'stopped' } },
        { id: 'm1', type: 'assistant_message', assistant_message: { content: JSON.stringify(VALID_ADVICE.fraud_risk_assessment) } },
      ],
    };

    const result = await runToEnd(harness(scripted(script)));

    expect(result).toMatchObject({ outcome: 'ok', advice: VALID_ADVICE.fraud_risk_assessment });
  });

  it('records a failed task as unavailable', async () => {
    const result = await runToEnd(harness(scripted(MANUS_FAILED_TASK)));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'the Manus task ended with an error (agent_failure)' });
  });

  it('stops a task that waits for input', async () => {
    const script: ManusTaskScript = {
      statuses: ['waiting'],
      messages: [{ id: 'm1', type: 'status_update', status_update: { agent_status: 'waiting', status_detail: { waiting_for_event_type: 'messageAskUser' } } }],
    };

    const result = await runToEnd(harness(scripted(script)));

    expect(result.outcome).toBe('unavailable');
    const stop = server.requestsTo('/v2/task.stop');
    expect(stop).toHaveLength(1);
    expect(jsonBody(stop[0]!)).toEqual({ task_id: 'task_1' });
  });

  it('records structured output that breaks the schema as unavailable', async () => {
    const result = await runToEnd(harness(scripted(manusStoppedWith({ ...VALID_ADVICE.fraud_risk_assessment, riskLevel: 'extreme' }))));

    expect(result.outcome).toBe('unavailable');
    expect(reasonOf(result)).toContain('riskLevel');
  });

  it('records a failed structured output as unavailable', async () => {
    const script: ManusTaskScript = {
      statuses: ['stopped'],
      messages: [{ id: 'm1', type: 'structured_output_result', structured_output_result: { success: false, error: 'schema mismatch' } }],
    };

    const result = await runToEnd(harness(scripted(script)));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'Manus could not produce the structured output' });
  });

  it('records an assistant answer that is not JSON as unavailable', async () => {
    const script: ManusTaskScript = {
      statuses: ['stopped'],
      messages: [{ id: 'm1', type: 'assistant_message', assistant_message: { content: 'I looked into it and it seems fine.' } }],
    };

    const result = await runToEnd(harness(scripted(script)));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'the reply is not valid JSON' });
  });

  it('records HTTP 429 on task creation as retryable', async () => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(() => manusError(429, 'rate_limited')));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(result).toMatchObject({ outcome: 'failed', error: 'Manus returned HTTP 429 (rate_limited) for /v2/task.create.' });
  });

  it.each([500, 503])('records HTTP %i as a retryable failure', async (status) => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(() => manusError(status, 'internal')));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
  });

  it('records an unknown key as a failure not worth retrying', async () => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(() => manusError(401, 'permission_denied')));

    expect(result).toMatchObject({ outcome: 'failed', retryable: false });
  });

  it('records a body that is not JSON as unavailable', async () => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(() => ({ status: 200, text: '{"ok": tru', contentType: 'application/json' })));

    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'Manus returned a body that is not a success envelope for /v2/task.create.' });
  });

  it('times out a hung request and closes its connection', async () => {
    const result = await runAiTask('fraud_risk_assessment', subject, harness(() => ({ hang: true }), 200));

    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(result).toMatchObject({ outcome: 'failed', error: 'The call to manus timed out after 200 ms.' });
    await vi.waitFor(() => expect(server.requests[0]?.clientClosedEarly).toBe(true));
  });

  it('keeps the API key out of logs and results', async () => {
    const results = [
      await runAiTask('fraud_risk_assessment', subject, harness(() => manusError(401, 'permission_denied'))),
      await runToEnd(harness(scripted(MANUS_FAILED_TASK))),
    ];

    expect(captured.lines()).not.toContain(TEST_KEYS.manus);
    expect(JSON.stringify(results)).not.toContain(TEST_KEYS.manus);
  });
});
