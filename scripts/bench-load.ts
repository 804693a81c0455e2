import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import Stripe from 'stripe';
import { BenchError } from './bench-errors.js';

/** A request body with its `Stripe-Signature` header, prepared before the timed phase starts. */
export interface SignedRequest {
  readonly body: Buffer;
  readonly signature: string;
}

/** Client-side figures of one timed phase. Latencies are in milliseconds. */
export interface LatencySummary {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Characters at the end of each id that a copy replaces, so every copy keeps the sample's size. */
const SUFFIX_LENGTH = 8;

/** Time allowed for one request, from sending it to reading the whole response. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Returns a function that makes copy `index` of a sample event: the event id and the ids of the
 * object, its charge and its PaymentIntent end in a suffix made of `runTag` and the index. Every
 * copy is then a new event about a new object, so the service records each one and its worker locks
 * a different PaymentIntent for each. Each copy has exactly the sample's length in bytes.
 */
export function sampleCopier(sampleRaw: string, runTag: string): (index: number) => string {
  if (!/^[a-z]$/.test(runTag)) throw new RangeError(`runTag should be one lowercase letter, got "${runTag}"`);
  const ids = idsToReplace(sampleRaw);
  return (index: number): string => {
    const suffix = `${runTag}${index.toString(36).padStart(SUFFIX_LENGTH - 1, '0')}`;
    if (suffix.length !== SUFFIX_LENGTH) throw new RangeError(`Copy index ${index} is too large for a ${SUFFIX_LENGTH}-character suffix.`);
    let copy = sampleRaw;
    for (const id of ids) copy = copy.split(id).join(id.slice(0, -SUFFIX_LENGTH) + suffix);
    return copy;
  };
}

function idsToReplace(sampleRaw: string): string[] {
  const event = JSON.parse(sampleRaw) as { id?: unknown; data?: { object?: Record<string, unknown> } };
  const object = event.data?.object ?? {};
  const candidates = [event.id, object['id'], object['charge'], object['payment_intent']];
  const ids = candidates.filter((value): value is string => typeof value === 'string' && /^[a-z]+_[A-Za-z0-9]+$/.test(value));
  if (typeof event.id !== 'string' || !ids.includes(event.id)) throw new RangeError('The sample event has no usable top-level "id".');
  for (const id of ids) {
    if (id.length - id.indexOf('_') - 1 < SUFFIX_LENGTH) throw new RangeError(`Id ${id} is too short to take a ${SUFFIX_LENGTH}-character suffix.`);
  }
  return ids;
}

/** Signs each body the way Stripe does, with one timestamp for the whole batch. */
export function signAll(bodies: readonly string[], secret: string): SignedRequest[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return bodies.map((body) => ({
    body: Buffer.from(body, 'utf8'),
    signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }),
  }));
}

/**
 * Posts every request to `http://127.0.0.1:<port><path>` over `concurrency` keep-alive connections,
 * each connection sending its next request as soon as the previous response ends. Returns each
 * request's latency from sending to the end of the response body, in request order.
 *
 * A response other than 200, or a 200 that reports a duplicate (every request carries a new event
 * id, so a duplicate means the bench is wrong), stops the run with BenchError, and so does a
 * network error.
 */
export async function runLoad(options: {
  readonly port: number;
  readonly path: string;
  readonly concurrency: number;
  readonly requests: readonly SignedRequest[];
}): Promise<{ latenciesMs: Float64Array; seconds: number }> {
  const { requests } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs = new Float64Array(requests.length);
  let next = 0;
  // Set by a lane; the cast stops the compiler from narrowing it to null, since it cannot see the lanes assign it.
  let failure = null as BenchError | null;

  const lane = async (): Promise<void> => {
    while (failure === null && next < requests.length) {
      const index = next;
      next += 1;
      const request = requests[index];
      if (request === undefined) return;
      const sentAt = performance.now();
      try {
        const response = await post(agent, options.port, options.path, request);
        latenciesMs[index] = performance.now() - sentAt;
        checkResponse(response, index);
      } catch (error) {
        failure ??= error instanceof BenchError ? error : new BenchError(`Request ${index} to port ${options.port} failed.`, { cause: error });
      }
    }
  };

  const startedAt = performance.now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, lane));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  if (failure !== null) throw failure;
  return { latenciesMs, seconds };
}

interface PostResponse {
  readonly status: number;
  readonly body: string;
}

function post(agent: Agent, port: number, path: string, request: SignedRequest): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': request.body.byteLength,
          'stripe-signature': request.signature,
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        incoming.on('error', reject);
      },
    );
    outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => outgoing.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function checkResponse(response: PostResponse, index: number): void {
  // The servers' error bodies are short JSON codes and messages; they never contain the payload.
  const bodyStart = response.body.slice(0, 300);
  if (response.status !== 200) {
    throw new BenchError(`Request ${index} got status ${response.status}: ${bodyStart}`, { context: { status: response.status } });
  }
  if (response.body.includes('"duplicate"')) {
    throw new BenchError(`Request ${index} was reported as a duplicate, although every request carries a new event id: ${bodyStart}`);
  }
}

/** Percentiles by the nearest-rank method, on a copy of the latencies. */
export function summarize(latenciesMs: Float64Array, seconds: number): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const rank = (percent: number): number => sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)] ?? Number.NaN;
  return {
    requests: sorted.length,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    p50Ms: rank(50),
    p90Ms: rank(90),
    p99Ms: rank(99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
