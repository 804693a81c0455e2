import { ApiError, FinishReason, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { AiProviderError, kindForStatus } from '../errors.js';
import type { AiProvider, ProviderReply, ProviderRequest } from '../types.js';
import { describeTransportError, isAbortError } from './transport.js';

export interface GeminiSettings {
  readonly apiKey: string;
  readonly model: string;
  /** Overrides the API host, for tests and proxies; the SDK appends `/v1beta/models/…`. */
  readonly baseUrl?: string | undefined;
  /** Upper bound for one HTTP request; the breaker's timeout normally aborts first. */
  readonly timeoutMs: number;
}

// Room for the JSON output of the largest schema (a 1,500-character draft plus a summary) and for
// the thinking tokens that newer models count against the same budget.
const MAX_OUTPUT_TOKENS = 4096;

/**
 * Gemini through `@google/genai` 2.x (`models.generateContent`). The key travels in the
 * `x-goog-api-key` header. SDK retries are off, because the circuit breaker and the enrichment
 * queue decide when to call again.
 */
export function createGeminiProvider(settings: GeminiSettings): AiProvider {
  const client = new GoogleGenAI({
    apiKey: settings.apiKey,
    httpOptions: {
      ...(settings.baseUrl === undefined ? {} : { baseUrl: settings.baseUrl }),
      timeout: settings.timeoutMs,
      retryOptions: { attempts: 1 },
    },
  });

  return {
    name: 'gemini',
    model: settings.model,
    async generate(request: ProviderRequest): Promise<ProviderReply> {
      let response: GenerateContentResponse;
      try {
        response = await client.models.generateContent({
          model: settings.model,
          contents: [{ role: 'user', parts: [{ text: request.user }] }],
          config: {
            systemInstruction: request.system,
            responseMimeType: 'application/json',
            responseJsonSchema: request.schema,
            temperature: 0,
            maxOutputTokens: MAX_OUTPUT_TOKENS,
            abortSignal: request.signal,
          },
        });
      } catch (error) {
        throw geminiError(error);
      }
      return replyFrom(response, settings.model);
    },
  };
}

function replyFrom(response: GenerateContentResponse, requestedModel: string): ProviderReply {
  const model = typeof response.modelVersion === 'string' && response.modelVersion !== '' ? response.modelVersion : requestedModel;
  if (!Array.isArray(response.candidates) && response.promptFeedback === undefined) {
    throw new AiProviderError({ provider: 'gemini', kind: 'invalid_response', message: 'Gemini returned a body without candidates.' });
  }

  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason !== undefined) return { status: 'no_output', model, reason: `Gemini blocked the prompt (${blockReason})` };

  const candidate = response.candidates?.[0];
  if (candidate === undefined) return { status: 'no_output', model, reason: 'Gemini returned no candidate' };
  // Anything but STOP means the output is missing or cut off (MAX_TOKENS, SAFETY, RECITATION, …).
  if (candidate.finishReason !== undefined && candidate.finishReason !== FinishReason.STOP) {
    return { status: 'no_output', model, reason: `Gemini stopped with finish reason ${candidate.finishReason}` };
  }

  const text = (candidate.content?.parts ?? [])
    .filter((part) => part.thought !== true)
    .map((part) => part.text ?? '')
    .join('');
  if (text === '') return { status: 'no_output', model, reason: 'Gemini returned an empty answer' };
  return { status: 'completed', model, text };
}

/** Maps an SDK error to AiProviderError, reading the RPC status and RetryInfo from the error body. */
function geminiError(error: unknown): AiProviderError {
  if (error instanceof AiProviderError) return error;
  if (error instanceof ApiError) {
    const body = parseErrorBody(error.message);
    const code = body.status === undefined ? '' : ` (${body.status})`;
    return new AiProviderError({
      provider: 'gemini',
      kind: kindForStatus(error.status),
      httpStatus: error.status,
      retryAfterMs: body.retryDelayMs,
      message: `Gemini returned HTTP ${error.status}${code}.`,
      cause: error,
    });
  }
  if (isAbortError(error)) {
    return new AiProviderError({ provider: 'gemini', kind: 'timeout', message: 'The call to Gemini was aborted.', cause: error });
  }
  if (error instanceof SyntaxError) {
    return new AiProviderError({ provider: 'gemini', kind: 'invalid_response', message: 'Gemini returned a body that is not JSON.', cause: error });
  }
  return new AiProviderError({ provider: 'gemini', kind: 'network', message: `The call to Gemini failed: ${describeTransportError(error)}.`, cause: error });
}

/**
 * Reads `error.status` and the `google.rpc.RetryInfo` delay (such as "38s") from the JSON text
 * that the SDK puts in `ApiError.message`. Gemini sends no Retry-After header on 429.
 */
function parseErrorBody(message: string): { status: string | undefined; retryDelayMs: number | null } {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return { status: undefined, retryDelayMs: null };
  }
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return { status: undefined, retryDelayMs: null };
  const { status, details } = error as { status?: unknown; details?: unknown };

  let retryDelayMs: number | null = null;
  if (Array.isArray(details)) {
    for (const detail of details as unknown[]) {
      const delay = typeof detail === 'object' && detail !== null ? (detail as { retryDelay?: unknown }).retryDelay : undefined;
      const match = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
      if (match?.[1] !== undefined) retryDelayMs = Math.ceil(Number(match[1]) * 1000);
    }
  }
  return { status: typeof status === 'string' ? status : undefined, retryDelayMs };
}
