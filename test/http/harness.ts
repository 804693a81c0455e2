import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Hono } from 'hono';
import { StoreUnavailableError } from '../../src/errors.js';
import { createApp, type HttpDependencies } from '../../src/http/app.js';
import type { ReadinessChecks } from '../../src/http/health-routes.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/store/sqlite/index.js';
import type { EventFilter, EventRecord, EventStatus, EventStore, IncomingEvent, IngestOutcome } from '../../src/store/ports.js';
import { NOW_MS, signatureHeader, testConfig } from './support.js';
import { WEBHOOK_PATH } from '../../src/http/webhook-route.js';

/** Creates a logger that keeps every line it writes, so tests can check what reached the log. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  // pino writes synchronously to a plain Writable, so lines are there when a request returns.
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/**
 * Wraps the real event store and fails `ingest` while `failing` is set, the way a full disk or a
 * lost database would, so a test can show the 503 and the recovery after it.
 */
export class IngestFailureInjector implements EventStore {
  failing = false;
  failure: () => Error = () => new StoreUnavailableError('Injected failure: the event store cannot write.');
  private readonly inner: EventStore;

  constructor(inner: EventStore) {
    this.inner = inner;
  }

  ingest(event: IncomingEvent): Promise<IngestOutcome> {
    if (this.failing) return Promise.reject(this.failure());
    return this.inner.ingest(event);
  }
  get(eventId: string): Promise<EventRecord | null> {
    return this.inner.get(eventId);
  }
  list(filter: EventFilter): Promise<EventRecord[]> {
    return this.inner.list(filter);
  }
  countByStatus(): Promise<Record<EventStatus, number>> {
    return this.inner.countByStatus();
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
}

export interface Harness {
  readonly app: Hono;
  readonly store: EmbeddedStore;
  readonly events: EventStore;
  readonly metrics: Metrics;
  readonly logLines: string[];
  /** The store's clock, in milliseconds; tests move `time.now` to make retries due. */
  readonly time: { now: number };
  /** Sends a POST to the webhook path with `body` and, unless `header` is null, the given or a fresh signature. */
  deliver(body: string, header?: string | null): Promise<Response>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly wrapEvents?: (events: EventStore) => EventStore;
  readonly readiness?: () => Promise<ReadinessChecks>;
  readonly findLedgerRecord?: (stripeObjectId: string) => Promise<unknown>;
  readonly findEnrichments?: HttpDependencies['findEnrichments'];
  readonly onAccepted?: HttpDependencies['onAccepted'];
  readonly databasePath?: string;
}

/** Builds the app on a real embedded store in its own temporary directory. */
export function createHarness(options: HarnessOptions = {}): Harness {
  const directory = options.databasePath === undefined ? mkdtempSync(path.join(tmpdir(), 'http-test-')) : null;
  const databasePath = options.databasePath ?? path.join(directory ?? '', 'pipeline.db');
  const { logger, lines } = capturingLogger();

  const time = { now: NOW_MS };
  const store = openEmbeddedStore({ path: databasePath, clock: () => time.now, logger });
  const events = options.wrapEvents === undefined ? store.events : options.wrapEvents(store.events);
  const metrics = createMetrics();
  const app = createApp({
    config: testConfig(options.env),
    events,
    queue: store.queue,
    logger,
    metrics,
    readiness: options.readiness ?? (async () => ({ eventStore: await store.events.ping().then(() => ({ ok: true })) })),
    findLedgerRecord: options.findLedgerRecord ?? (() => Promise.resolve(null)),
    findEnrichments: options.findEnrichments,
    onAccepted: options.onAccepted,
    clock: () => NOW_MS,
  });

  return {
    app,
    time,
    store,
    events,
    metrics,
    logLines: lines,
    async deliver(body: string, header?: string | null): Promise<Response> {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (header !== null) headers['Stripe-Signature'] = header ?? signatureHeader(body);
      return app.request(WEBHOOK_PATH, { method: 'POST', headers, body });
    },
    async close(): Promise<void> {
      await store.close();
      if (directory !== null) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Total number of events in the store, whatever their status. */
export async function storedEventCount(events: EventStore): Promise<number> {
  const counts = await events.countByStatus();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
