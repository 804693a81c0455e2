import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AiProviderError, kindForStatus } from '../errors.js';
import type { AiProvider, ProviderReply, ProviderRequest } from '../types.js';
import { describeTransportError, retryAfterHeaderMs } from './transport.js';

export interface OpenAiSettings {
  /** Optional for local servers such as Ollama, which ignore it. */
  readonly apiKey: string | undefined;
  readonly model: string;
  /** Base URL including the version path, such as `http://127.0.0.1:11434/v1`; defaults to OpenAI's. */
  readonly baseUrl?: string | undefined;
  /** Upper bound for one HTTP request; the breaker's timeout normally aborts first. */
  readonly timeoutMs: number;
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';
// The SDK refuses to start without a key; local OpenAI-compatible servers accept any value.
const PLACEHOLDER_KEY = 'not-set';

/**
 * Any OpenAI-compatible chat-completions server through the `openai` SDK 6.x. SDK retries are off
 * (`maxRetries: 0`), because the circuit breaker and the enrichment queue decide when to call
 * again. The output is constrained with `response_format: json_schema` (strict).
 */
export function createOpenAiProvider(settings: OpenAiSettings): AiProvider {
  const client = new OpenAI({
    apiKey: settings.apiKey ?? PLACEHOLDER_KEY,
    baseURL: settings.baseUrl ?? OPENAI_BASE_URL,
    maxRetries: 0,
    timeout: settings.timeoutMs,
  });

  return {
    name: 'openai',
    model: settings.model,
    async generate(request: ProviderRequest): Promise<ProviderReply> {
      let completion: unknown;
      try {
        completion = await client.chat.completions.create(
          {
            model: settings.model,
            messages: [
              { role: 'system', content: request.system },
              { role: 'user', content: request.user },
            ],
            temperature: 0,
            response_format: {
              type: 'json_schema',
              json_schema: { name: request.task, strict: true, schema: { ...request.schema } },
            },
          },
          { signal: request.signal },
        );
      } catch (error) {
        throw openAiError(error);
      }
      return replyFrom(completion, settings.model);
    },
  };
}

/**
 * Reads the first choice of a chat completion. The value is checked by hand because a
 * compatible server may send any JSON with HTTP 200.
 */
function replyFrom(completion: unknown, requestedModel: string): ProviderReply {
  if (typeof completion !== 'object' || completion === null || !Array.isArray((completion as { choices?: unknown }).choices)) {
    throw new AiProviderError({ provider: 'openai', kind: 'invalid_response', message: 'The server returned a body without choices.' });
  }
  const { choices, model: reportedModel } = completion as { choices: unknown[]; model?: unknown };
  const model = typeof reportedModel === 'string' && reportedModel !== '' ? reportedModel : requestedModel;

  const choice = choices[0] as { finish_reason?: unknown; message?: { content?: unknown; refusal?: unknown } } | undefined;
  if (choice === undefined) return { status: 'no_output', model, reason: 'the server returned no choice' };
  if (typeof choice.message?.refusal === 'string' && choice.message.refusal !== '') {
    return { status: 'no_output', model, reason: 'the model refused to answer' };
  }
  // `length` means the JSON is cut off; `content_filter` means it was withheld.
  if (choice.finish_reason === 'length' || choice.finish_reason === 'content_filter') {
    return { status: 'no_output', model, reason: `the model stopped with finish reason ${choice.finish_reason}` };
  }
  const content = choice.message?.content;
  if (typeof content !== 'string' || content === '') return { status: 'no_output', model, reason: 'the model returned an empty answer' };
  return { status: 'completed', model, text: content };
}

function openAiError(error: unknown): AiProviderError {
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return new AiProviderError({ provider: 'openai', kind: 'timeout', message: 'The call to the OpenAI-compatible server timed out or was aborted.', cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new AiProviderError({
      provider: 'openai',
      kind: 'network',
      message: `The call to the OpenAI-compatible server failed: ${describeTransportError(error.cause ?? error)}.`,
      cause: error,
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const code = typeof error.code === 'string' ? ` (${error.code})` : '';
    return new AiProviderError({
      provider: 'openai',
      kind: kindForStatus(error.status),
      httpStatus: error.status,
      retryAfterMs: retryAfterHeaderMs(headerValue(error.headers, 'retry-after')),
      message: `The OpenAI-compatible server returned HTTP ${error.status}${code}.`,
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new AiProviderError({ provider: 'openai', kind: 'invalid_response', message: 'The server returned a body that is not JSON.', cause: error });
  }
  return new AiProviderError({
    provider: 'openai',
    kind: 'network',
    message: `The call to the OpenAI-compatible server failed: ${describeTransportError(error)}.`,
    cause: error,
  });
}

// Under this project's compiler settings the SDK's `headers` type resolves to `any`, so the value
// is read through a structural check.
function headerValue(headers: unknown, name: string): string | null {
  if (typeof headers !== 'object' || headers === null) return null;
  const get = (headers as { get?: unknown }).get;
  if (typeof get !== 'function') return null;
  const value: unknown = get.call(headers, name);
  return typeof value === 'string' ? value : null;
}
