import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OUTBOX_SIGNATURE_HEADER, verifyOutboxSignature } from '../../../src/outbox/signature.js';

/** A signing secret for tests: 64 hex characters, the form `openssl rand -hex 32` prints. */
export const RECEIVER_SECRET = '5f1c0e9a7b3d4c2e8f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e';

/** One request as the receiver saw it. */
export interface Receipt {
  readonly idempotencyKey: string | null;
  readonly contentType: string | null;
  readonly body: string;
  /** Null when the signature verified; otherwise the verification error's code. */
  readonly signatureProblem: string | null;
  /** What the receiver did with it. */
  readonly response: number | 'hang' | 'hold';
}

/**
 * Response to the next request: a status code, `hang` (no response, so the relay must time out),
 * or `hold` (200 once `releaseHeld` is called).
 */
export type Reply = number | 'hang' | 'hold';

/**
 * A receiver of outbox messages on 127.0.0.1 that verifies every signature with
 * `verifyOutboxSignature`, as a user's receiver would, and responds 400 to a request that fails it.
 */
export class TestReceiver {
  readonly receipts: Receipt[] = [];
  private readonly replies: Reply[] = [];
  private readonly repliesByKey = new Map<string, Reply[]>();
  private readonly held: ServerResponse[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: { secret: string; now: () => number },
  ) {}

  /** Starts a receiver on a free port. `now` is the clock the signature timestamp is checked against. */
  static async start(options: { secret?: string; now?: () => number } = {}): Promise<TestReceiver> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const receiver = new TestReceiver(server, `http://127.0.0.1:${port}/outbox`, {
      secret: options.secret ?? RECEIVER_SECRET,
      now: options.now ?? Date.now,
    });
    server.on('request', (request, response) => receiver.handle(request, response));
    return receiver;
  }

  /** Queues replies for the next requests, in order; after they run out every request gets 200. */
  reply(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  /** Queues replies for the next requests carrying this Idempotency-Key; they come before `reply`'s. */
  replyFor(messageId: string, ...replies: Reply[]): void {
    this.repliesByKey.set(messageId, [...(this.repliesByKey.get(messageId) ?? []), ...replies]);
  }

  /** Responds 200 to every held request. */
  releaseHeld(): void {
    for (const response of this.held.splice(0)) response.writeHead(200).end();
  }

  /** Receipts carrying this Idempotency-Key. */
  receiptsFor(messageId: string): Receipt[] {
    return this.receipts.filter((receipt) => receipt.idempotencyKey === messageId);
  }

  /**
   * Resolves once `count` requests have arrived. Rejects after `timeoutMs` with the number that did
   * arrive, so a missing request reads as a failed expectation rather than a hung test.
   */
  async waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.receipts.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.receipts.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`expected ${count} requests at the receiver within ${timeoutMs} ms, got ${this.receipts.length}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.releaseHeld();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureProblem = this.verify(body, request.headers[OUTBOX_SIGNATURE_HEADER.toLowerCase()]);
      const idempotencyKey = headerValue(request.headers['idempotency-key']);
      const planned = (idempotencyKey === null ? undefined : this.repliesByKey.get(idempotencyKey)?.shift()) ?? this.replies.shift() ?? 200;
      const reply: Reply = signatureProblem === null ? planned : 400;
      this.receipts.push({
        idempotencyKey,
        contentType: headerValue(request.headers['content-type']),
        body,
        signatureProblem,
        response: reply,
      });
      for (const wake of [...this.waiters]) wake();

      if (reply === 'hang') return;
      if (reply === 'hold') {
        this.held.push(response);
        return;
      }
      // A redirect points back at this receiver, so a relay that followed it would show a second receipt.
      const location = reply >= 300 && reply < 400 ? { Location: `${this.url}/moved` } : {};
      response.writeHead(reply, { 'Content-Type': 'text/plain', ...location }).end(reply < 300 ? 'ok' : 'no');
    });
  }

  private verify(body: string, header: string | string[] | undefined): string | null {
    try {
      verifyOutboxSignature(body, headerValue(header), this.options.secret, 300, new Date(this.options.now()));
      return null;
    } catch (error) {
      return error instanceof Error && 'code' in error ? String(error.code) : String(error);
    }
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : value;
}
