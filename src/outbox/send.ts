/** Result of one POST to the receiver. Only `delivered` (a 2xx response) counts as sent. */
export type SendResult =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'timed_out'; readonly timeoutMs: number }
  | { readonly kind: 'network_error'; readonly detail: string };

export interface SendRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Limit for the connection and the response headers, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * POSTs one message. Never throws for the receiver's behaviour: a non-2xx status, a timeout and a
 * network error are all results. Redirects are not followed, so a 3xx counts as a failed attempt
 * and the signed body never goes to an address the operator did not configure.
 */
export async function sendOutboxRequest(request: SendRequest): Promise<SendResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    // The body is not needed; cancelling it frees the connection without reading an unbounded reply.
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? { kind: 'delivered', status: response.status } : { kind: 'rejected', status: response.status };
  } catch (error) {
    if (controller.signal.aborted) return { kind: 'timed_out', timeoutMs: request.timeoutMs };
    return { kind: 'network_error', detail: networkErrorDetail(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Describes a failed attempt for `last_error` and the log. */
export function describeSendFailure(result: Exclude<SendResult, { kind: 'delivered' }>): string {
  switch (result.kind) {
    case 'rejected':
      return `The receiver responded with HTTP ${result.status}; only a 2xx response counts as delivered.`;
    case 'timed_out':
      return `The receiver did not respond within ${result.timeoutMs} ms (OUTBOX_TIMEOUT_MS).`;
    case 'network_error':
      return `The request failed before a response arrived: ${result.detail}.`;
  }
}

/**
 * Names the cause of a fetch failure by its system error code (ECONNREFUSED, ENOTFOUND …) where
 * Node gives one. The cause's message is left out because it may contain the receiver's URL.
 */
function networkErrorDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (cause as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return error instanceof Error ? error.name : 'unknown error';
}
