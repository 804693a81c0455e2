import type { Logger } from '../../logger.js';
import { AiProviderError, kindForStatus } from '../errors.js';
import type { AiProvider, ProviderReply, ProviderRequest } from '../types.js';
import { describeTransportError, isAbortError, retryAfterHeaderMs } from './transport.js';
import { readTaskResult, type ManusMessage } from './manus-messages.js';

export interface ManusSettings {
  readonly apiKey: string;
  /** API host, such as `https://api.manus.ai`; paths under `/v2/` are appended. */
  readonly baseUrl: string;
  /** Agent profile, such as `manus-1.6-lite`; recorded as the model. */
  readonly agentProfile: string;
  readonly logger: Logger;
}

/**
 * Manus through its v2 task API over plain `fetch`. Manus runs an agent asynchronously, so
 * `generate` only creates the task (`POST /v2/task.create`) and returns `pending`. Each `poll` is
 * one short status read (`GET /v2/task.detail`). Once the task has stopped, the poll also reads
 * the task's messages (`GET /v2/task.listMessages`). The enrichment queue keeps the job between
 * polls, so no worker slot waits for the agent.
 *
 * NOTE: Manus allows 10 `task.create` and 100 `task.detail` calls per minute per user
 * (open.manus.ai/docs/v2/rate-limits), and nothing here throttles calls locally. A burst of events
 * or many tasks polled every MANUS_POLL_INTERVAL_MS can therefore end in 429s, queue retries and
 * an open circuit breaker.
 *
 * The task is private, hidden from the task list and non-interactive, and gets no connectors or
 * skills: the agent has tools, so it receives the least possible data and no authority.
 *
 * NOTE: Manus documents the `running` status of `task.detail`, the `stopped`/`waiting`/`error`
 * agent statuses in `task.listMessages` and the `rate_limited` error code (HTTP 429). The other
 * `task.detail` statuses, the HTTP statuses of other error codes, and whether `task.stop` takes
 * the id in a JSON body could not be confirmed. So any status but `running` leads to a read of
 * the messages, and a task whose state stays unclear is polled until the task timeout.
 */
export function createManusProvider(settings: ManusSettings): AiProvider {
  const baseUrl = settings.baseUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST', path: string, signal: AbortSignal, body?: unknown): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          'x-manus-api-key': settings.apiKey,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
    } catch (error) {
      if (isAbortError(error)) {
        throw new AiProviderError({ provider: 'manus', kind: 'timeout', message: 'The call to Manus was aborted.', cause: error });
      }
      throw new AiProviderError({ provider: 'manus', kind: 'network', message: `The call to Manus failed: ${describeTransportError(error)}.`, cause: error });
    }
    const endpoint = path.split('?')[0] ?? path;
    const text = await readBody(response, signal);
    const parsed = parseJson(text);

    if (!response.ok) {
      const code = errorCodeOf(parsed);
      throw new AiProviderError({
        provider: 'manus',
        kind: kindForStatus(response.status),
        httpStatus: response.status,
        retryAfterMs: retryAfterHeaderMs(response.headers.get('retry-after')),
        message: `Manus returned HTTP ${response.status}${code === null ? '' : ` (${code})`} for ${endpoint}.`,
      });
    }
    if (parsed === null || parsed.ok !== true) {
      const code = errorCodeOf(parsed);
      throw new AiProviderError({
        provider: 'manus',
        kind: code === 'rate_limited' ? 'rate_limited' : 'invalid_response',
        message: code === null ? `Manus returned a body that is not a success envelope for ${endpoint}.` : `Manus reported error ${code} for ${endpoint}.`,
      });
    }
    return parsed;
  }

  return {
    name: 'manus',
    model: settings.agentProfile,

    async generate(request: ProviderRequest): Promise<ProviderReply> {
      const created = await call('POST', '/v2/task.create', request.signal, {
        // Manus has no separate system turn; the instructions come first and the fence still
        // keeps customer text apart.
        message: { content: `${request.system}\n\n${request.user}` },
        agent_profile: settings.agentProfile,
        title: `Stripe event enrichment: ${request.task}`,
        interactive_mode: false,
        hide_in_task_list: true,
        share_visibility: 'private',
        structured_output_schema: request.schema,
      });
      const taskId = created.task_id;
      if (typeof taskId !== 'string' || taskId === '') {
        throw new AiProviderError({ provider: 'manus', kind: 'invalid_response', message: 'Manus created a task but returned no task_id.' });
      }
      return { status: 'pending', model: settings.agentProfile, taskId };
    },

    async poll({ taskId, signal }): Promise<ProviderReply> {
      const detail = await call('GET', `/v2/task.detail?task_id=${encodeURIComponent(taskId)}`, signal);
      const task = detail.task;
      const status = typeof task === 'object' && task !== null ? (task as { status?: unknown }).status : undefined;
      if (status === 'running') return { status: 'pending', model: settings.agentProfile, taskId };

      // Any other status: the messages carry the documented agent status and the result.
      const listed = await call('GET', `/v2/task.listMessages?task_id=${encodeURIComponent(taskId)}&order=desc&limit=50`, signal);
      const messages = Array.isArray(listed.messages) ? (listed.messages as ManusMessage[]) : [];
      const { reply, waiting } = readTaskResult(status, messages, settings.agentProfile, taskId);
      if (waiting) await stopQuietly(taskId, signal);
      return reply;
    },

    async cancel({ taskId, signal }): Promise<void> {
      await call('POST', '/v2/task.stop', signal, { task_id: taskId });
    },
  };

  // A waiting task requests input that enrichment never gives, so it is stopped to free the agent.
  // The outcome is decided already, so a failure here is only logged.
  async function stopQuietly(taskId: string, signal: AbortSignal): Promise<void> {
    try {
      await call('POST', '/v2/task.stop', signal, { task_id: taskId });
    } catch (error) {
      if (!(error instanceof AiProviderError)) throw error;
      settings.logger.warn({ provider: 'manus', taskId, code: error.code }, 'manus task stop failed');
    }
  }
}

async function readBody(response: Response, signal: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (signal.aborted || isAbortError(error)) {
      throw new AiProviderError({ provider: 'manus', kind: 'timeout', message: 'Reading the Manus reply was aborted.', cause: error });
    }
    throw new AiProviderError({ provider: 'manus', kind: 'network', message: `Reading the Manus reply failed: ${describeTransportError(error)}.`, cause: error });
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorCodeOf(body: Record<string, unknown> | null): string | null {
  const error = body?.error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[a-z0-9_]{1,64}$/i.test(code) ? code : null;
}
