import type { AiTaskType } from '../../../src/decision/types.js';
import type { MockReply, RecordedRequest } from './mock-server.js';

/** A valid reply for each task, as a model would write it. */
export const VALID_ADVICE: Readonly<Record<AiTaskType, Record<string, unknown>>> = {
  dispute_summary: {
    summary: 'Fraud dispute of 5000 usd on a visa credit card; no evidence submitted yet.',
    priority: 'urgent',
    riskLevel: 'high',
    recommendedActions: ['Gather delivery confirmation', 'Check the customer order history'],
  },
  fraud_risk_assessment: {
    summary: 'Elevated Radar risk with passing CVC check.',
    priority: 'high',
    riskLevel: 'medium',
    signals: ['Radar risk score 74', 'CVC check passed'],
  },
  manual_review_triage: {
    summary: 'Payment held for review because of elevated risk.',
    priority: 'high',
    riskLevel: 'medium',
    checklist: ['Compare billing and card country'],
  },
  failed_payment_outreach_draft: {
    summary: 'Renewal of 1500 usd failed; first attempt.',
    priority: 'normal',
    subject: 'Please update your payment method',
    draft: 'Hello {{customer_name}}, your payment of 15.00 USD did not go through. Please update your card here: {{update_payment_link}}.',
  },
};

// --- Gemini (`POST /v1beta/models/{model}:generateContent`) ---

export function geminiSuccess(text: string, options: { finishReason?: string; modelVersion?: string } = {}): MockReply {
  return {
    status: 200,
    json: {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: options.finishReason ?? 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 40, totalTokenCount: 140 },
      modelVersion: options.modelVersion ?? 'gemini-test-001',
      responseId: 'resp-1',
    },
  };
}

export function geminiError(status: number, rpcStatus: string, details: unknown[] = []): MockReply {
  return { status, json: { error: { code: status, message: `Mock ${rpcStatus}`, status: rpcStatus, details } } };
}

// --- OpenAI-compatible (`POST /v1/chat/completions`) ---

export function openAiSuccess(content: string | null, options: { finishReason?: string; refusal?: string | null } = {}): MockReply {
  return {
    status: 200,
    json: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_787_839_200,
      model: 'test-model-2026',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: options.refusal ?? null },
          finish_reason: options.finishReason ?? 'stop',
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 40, total_tokens: 140 },
    },
  };
}

export function openAiError(status: number, code: string, headers: Record<string, string> = {}): MockReply {
  return { status, json: { error: { message: `Mock ${code}`, type: 'server_error', param: null, code } }, headers };
}

// --- Manus v2 task API ---

export interface ManusTaskScript {
  /** task.detail statuses returned one after another; the last one repeats. */
  readonly statuses: readonly string[];
  /** Messages returned by task.listMessages (newest first). */
  readonly messages: readonly unknown[];
}

/**
 * A Manus API imitation: `task.create` starts a task that follows `script`, `task.detail` walks
 * through its statuses, `task.listMessages` returns its messages and `task.stop` accepts.
 */
export function manusHandler(script: (taskNumber: number) => ManusTaskScript): (request: RecordedRequest) => MockReply {
  const tasks = new Map<string, { script: ManusTaskScript; polls: number }>();
  return (request) => {
    if (request.method === 'POST' && request.path === '/v2/task.create') {
      const taskId = `task_${tasks.size + 1}`;
      tasks.set(taskId, { script: script(tasks.size + 1), polls: 0 });
      return {
        status: 200,
        json: { ok: true, request_id: `req_${tasks.size}`, task_id: taskId, task_title: 'Enrichment', task_url: `https://manus.example/${taskId}`, share_visibility: 'private' },
      };
    }
    const taskId = request.query.get('task_id') ?? '';
    const task = tasks.get(taskId);
    if (request.method === 'GET' && request.path === '/v2/task.detail' && task !== undefined) {
      const status = task.script.statuses[Math.min(task.polls, task.script.statuses.length - 1)];
      task.polls += 1;
      return { status: 200, json: { ok: true, request_id: 'req_detail', task: { id: taskId, status, created_at: 1_787_839_200, updated_at: 1_787_839_260 } } };
    }
    if (request.method === 'GET' && request.path === '/v2/task.listMessages' && task !== undefined) {
      return { status: 200, json: { ok: true, request_id: 'req_list', task_id: taskId, messages: task.script.messages, has_more: false, next_cursor: null } };
    }
    if (request.method === 'POST' && request.path === '/v2/task.stop') {
      return { status: 200, json: { ok: true, request_id: 'req_stop' } };
    }
    return { status: 404, json: { ok: false, request_id: 'req_404', error: { code: 'not_found', message: 'Unknown task' } } };
  };
}

export function manusStoppedWith(value: unknown): ManusTaskScript {
  return {
    statuses: ['running', 'stopped'],
    messages: [
      { id: 'm3', type: 'structured_output_result', timestamp: 3, structured_output_result: { success: true, value } },
      { id: 'm2', type: 'status_update', timestamp: 2, status_update: { agent_status: 'stopped', brief: 'Done' } },
      { id: 'm1', type: 'assistant_message', timestamp: 1, assistant_message: { content: 'Finished.', attachments: [] } },
    ],
  };
}

export const MANUS_FAILED_TASK: ManusTaskScript = {
  statuses: ['running', 'error'],
  messages: [
    { id: 'm2', type: 'status_update', timestamp: 2, status_update: { agent_status: 'error' } },
    { id: 'm1', type: 'error_message', timestamp: 1, error_message: { error_type: 'agent_failure', content: 'The agent could not continue.' } },
  ],
};

export const MANUS_ENDLESS_TASK: ManusTaskScript = { statuses: ['running'], messages: [] };

export function manusError(status: number, code: string): MockReply {
  return { status, json: { ok: false, request_id: 'req_err', error: { code, message: `Mock ${code}` } } };
}
