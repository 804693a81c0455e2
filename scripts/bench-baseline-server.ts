import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * The baseline of the ingest benchmark, run as a child process by `scripts/bench.ts`: a bare
 * `node:http` server that reads the body, verifies the signature with stripe-node, parses the JSON
 * and responds with 200. It has no framework, no event validation and no store, so the ratio of the
 * service's figures to these shows what those parts cost.
 *
 * Reads BENCH_SECRET (the endpoint secret) and BENCH_TOLERANCE_SECONDS, listens on a free port of
 * 127.0.0.1 and prints the same "Listening on" line as the service.
 */

const secret = process.env['BENCH_SECRET'];
if (secret === undefined || !secret.startsWith('whsec_')) {
  console.error('BENCH_SECRET should be an endpoint secret starting with "whsec_".');
  process.exit(2);
}
const toleranceSeconds = Number(process.env['BENCH_TOLERANCE_SECONDS'] ?? '300');

const signature = Stripe.webhooks.signature;
if (signature === null) {
  console.error('stripe-node was loaded without its webhook signature helper; check the installed stripe package.');
  process.exit(2);
}

function respond(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

type SignatureHelper = NonNullable<typeof Stripe.webhooks.signature>;

function handle(request: IncomingMessage, response: ServerResponse, helper: SignatureHelper, endpointSecret: string): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const payload = Buffer.concat(chunks).toString('utf8');
    const header = request.headers['stripe-signature'];
    try {
      helper.verifyHeader(payload, header ?? '', endpointSecret, toleranceSeconds);
      JSON.parse(payload);
    } catch (error) {
      // Only the error's class is returned: the bench reports it, and it never quotes the body.
      respond(response, 400, JSON.stringify({ error: error instanceof Error ? error.name : 'Error' }));
      return;
    }
    respond(response, 200, '{"received":true}');
  });
}

const server = createServer((request, response) => handle(request, response, signature, secret));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.error(`Listening on http://127.0.0.1:${port}/webhooks/stripe (baseline)`);
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
