import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../logger.js';
import { errorResponse } from './errors.js';

export interface HttpServerOptions {
  readonly host: string;
  /** Port to listen on; 0 lets the system choose one, which `port` then reports. */
  readonly port: number;
  readonly logger: Logger;
}

export interface RunningHttpServer {
  readonly port: number;
  /** Stops accepting connections and resolves once every request in flight has its response. */
  close(): Promise<void>;
}

/** Serves the application with `@hono/node-server` and resolves once the port is listening. */
export async function startHttpServer(app: Hono, options: HttpServerOptions): Promise<RunningHttpServer> {
  const { logger } = options;
  const listener = getRequestListener(app.fetch, {
    hostname: options.host,
    // Hono turns its own errors into responses, so this catches only failures of the adapter itself.
    errorHandler: (error) => {
      logger.error({ err: error }, 'http adapter failed');
      return errorResponse(error);
    },
  });
  const responses = new Set<ServerResponse>();
  let closing: Promise<void> | null = null;
  const server = createServer((incoming, outgoing) => {
    if (closing !== null) outgoing.setHeader('Connection', 'close');
    responses.add(outgoing);
    outgoing.once('close', () => responses.delete(outgoing));
    // The listener settles every request itself (errors go to `errorHandler`), so its promise is not awaited.
    void listener(incoming, outgoing);
  });

  await listen(server, options.host, options.port);
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'http server listening');

  return {
    port,
    close(): Promise<void> {
      closing ??= closeServer(server, responses).then(() => {
        logger.info({ port }, 'http server closed');
      });
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Stops listening and resolves when every connection has ended. Idle keep-alive connections are
 * closed at once; a connection busy with a request is closed after its response, which carries
 * `Connection: close`, instead of lingering until the client's keep-alive timeout.
 */
function closeServer(server: Server, responses: ReadonlySet<ServerResponse>): Promise<void> {
  return new Promise((resolve, reject) => {
    for (const response of responses) {
      if (!response.headersSent) response.setHeader('Connection', 'close');
    }
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeIdleConnections();
  });
}
