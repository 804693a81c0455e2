import type { ProviderReply } from '../types.js';

/**
 * One entry of `task.listMessages`: `type` names the event, and a field of the same name contains
 * its body, for example `{ type: 'status_update', status_update: { agent_status: 'stopped' } }`.
 */
export type ManusMessage = { readonly type?: unknown } & Readonly<Record<string, unknown>>;

/**
 * Turns a task's messages (newest first) into a reply. The newest `status_update` decides the
 * state, with the `task.detail` status as fallback: `stopped` yields the structured output (or
 * the last assistant message), `error` and `waiting` yield no output, anything else is still
 * pending. `waiting` is true when the agent waits for input, so the caller can stop the task.
 */
export function readTaskResult(
  detailStatus: unknown,
  messages: readonly ManusMessage[],
  model: string,
  taskId: string,
): { readonly reply: ProviderReply; readonly waiting: boolean } {
  const agentStatus = bodyOf(messages, 'status_update')?.agent_status;
  const status = typeof agentStatus === 'string' ? agentStatus : detailStatus;

  switch (status) {
    case 'stopped':
      return { reply: stoppedReply(messages, model), waiting: false };
    case 'error': {
      const errorType = bodyOf(messages, 'error_message')?.error_type;
      const detail = typeof errorType === 'string' && /^[\w.-]{1,64}$/.test(errorType) ? ` (${errorType})` : '';
      return { reply: { status: 'no_output', model, reason: `the Manus task ended with an error${detail}` }, waiting: false };
    }
    case 'waiting':
      return { reply: { status: 'no_output', model, reason: 'the Manus task stopped to wait for input, which enrichment never gives' }, waiting: true };
    default:
      return { reply: { status: 'pending', model, taskId }, waiting: false };
  }
}

function stoppedReply(messages: readonly ManusMessage[], model: string): ProviderReply {
  const structured = bodyOf(messages, 'structured_output_result');
  if (structured !== undefined) {
    if (structured.success === true && structured.value !== undefined) {
      return { status: 'completed', model, text: JSON.stringify(structured.value) };
    }
    return { status: 'no_output', model, reason: 'Manus could not produce the structured output' };
  }
  // Without a structured result, the final assistant message may still contain the JSON output.
  const content = bodyOf(messages, 'assistant_message')?.content;
  if (typeof content === 'string' && content.trim() !== '') return { status: 'completed', model, text: content };
  return { status: 'no_output', model, reason: 'the Manus task stopped without output' };
}

function bodyOf(messages: readonly ManusMessage[], type: string): Record<string, unknown> | undefined {
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || message.type !== type) continue;
    const body = message[type];
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  }
  return undefined;
}
