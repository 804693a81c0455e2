import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the mock provider received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query string, such as `/v2/task.detail?task_id=t_1`. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** True once the client closed the connection before the mock responded (a cancelled request). */
  clientClosedEarly: boolean;
}

export type MockReply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType?: string }
  /** Sends no response and keeps the socket open, like a provider that hangs. */
  | { readonly hang: true };

export type MockHandler = (request: RecordedRequest) => MockReply;

/**
 * An HTTP server on 127.0.0.1 that imitates a provider API. It records every request and responds
 * with whatever the current handler returns.
 */
export class MockProviderServer {
  readonly requests: RecordedRequest[] = [];
  private handler: MockHandler;
  private readonly hung = new Set<ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    handler: MockHandler,
  ) {
    this.handler = handler;
  }

  static async start(handler: MockHandler): Promise<MockProviderServer> {
    const server = http.createServer();
    const mock = new MockProviderServer(server, handler);
    server.on('request', (request, response) => mock.onRequest(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  respondWith(handler: MockHandler): void {
    this.handler = handler;
  }

  /** Requests whose path matches, in arrival order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    for (const response of this.hung) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(request: http.IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientClosedEarly: false,
      };
      this.requests.push(recorded);
      response.on('close', () => {
        if (!response.writableFinished) recorded.clientClosedEarly = true;
        this.hung.delete(response);
      });

      const reply = this.handler(recorded);
      if ('hang' in reply) {
        this.hung.add(response);
        return;
      }
      if ('json' in reply) {
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(JSON.stringify(reply.json));
        return;
      }
      response.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain' });
      response.end(reply.text);
    });
  }
}

/** Parses a recorded JSON body; fails the test when the body is not JSON. */
export function jsonBody(request: RecordedRequest): Record<string, unknown> {
  return JSON.parse(request.body) as Record<string, unknown>;
}
