import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** Prefix of every metric name, so the service's series are easy to find next to others. */
const PREFIX = 'stripe_pipeline_';

export type WebhookOutcome = 'accepted' | 'duplicate' | 'rejected' | 'unavailable' | 'error';
export type BreakerState = 'closed' | 'half_open' | 'open';

/** Gauge values for each circuit breaker state; a dashboard alerts on `open`. */
const BREAKER_STATE_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

/**
 * The fields of a worker's job outcome that the metrics read. The worker's own outcome union is
 * assignable to this, so the worker and the metrics do not import each other.
 */
export interface JobOutcomeSample {
  readonly kind: string;
  readonly eventType: string;
  readonly action?: string;
  readonly durationMs?: number;
}

/** Event counts by status, as the event store reports them. */
export type QueueDepthSource = () => Promise<Readonly<Record<string, number>>>;

export interface Metrics {
  readonly registry: Registry;
  /** Webhook requests by outcome; `code` is the error code for rejected and failed requests, otherwise `none`. */
  readonly webhookRequests: Counter<'outcome' | 'code'>;
  /** Time from receiving a webhook request to its response, in seconds. */
  readonly ingestDuration: Histogram<'outcome'>;
  /** Worker attempts by outcome (`processed`, `ignored`, `retried`, `dead_lettered`, `lock_busy`, `lease_lost`) and event type. */
  readonly eventsProcessed: Counter<'outcome' | 'event_type'>;
  /** Duration of one worker attempt, in seconds. */
  readonly processingDuration: Histogram<'outcome' | 'event_type'>;
  /** Events by status, read from the source set with `setQueueDepthSource` at each scrape. */
  readonly queueDepth: Gauge<'status'>;
  readonly enrichmentCalls: Counter<'provider' | 'outcome'>;
  /** Circuit breaker state per provider: 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'provider'>;

  recordWebhook(outcome: WebhookOutcome, code: string | null, durationSeconds: number): void;
  recordJobOutcome(outcome: JobOutcomeSample): void;
  /** Counts one enrichment call; `outcome` is the enrichment record's outcome (`ok`, `unavailable`, `failed`, …). */
  recordEnrichmentCall(provider: string, outcome: string): void;
  setBreakerState(provider: string, state: BreakerState): void;
  /** Sets the function the queue depth gauge calls at each scrape; null stops reporting it. */
  setQueueDepthSource(source: QueueDepthSource | null, logger?: Logger): void;
}

/**
 * Creates the service's metrics on `registry`, or on a new registry so that several instances
 * (one per test, say) never clash over metric names in prom-client's global registry.
 */
export function createMetrics(registry: Registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const webhookRequests = new Counter({
    name: `${PREFIX}webhook_requests_total`,
    help: 'Webhook requests by outcome and error code.',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
  });
  // Ingest aims for a p99 well under 10 ms, so most buckets sit below that.
  const ingestDuration = new Histogram({
    name: `${PREFIX}webhook_ingest_duration_seconds`,
    help: 'Time from receiving a webhook request to sending its response.',
    labelNames: ['outcome'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const eventsProcessed = new Counter({
    name: `${PREFIX}events_processed_total`,
    help: 'Worker attempts by outcome and event type.',
    labelNames: ['outcome', 'event_type'] as const,
    registers: [registry],
  });
  // Handlers write to a database and may wait for locks, so the range covers the default 10 s handler timeout.
  const processingDuration = new Histogram({
    name: `${PREFIX}event_processing_duration_seconds`,
    help: 'Duration of one worker attempt on an event.',
    labelNames: ['outcome', 'event_type'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const enrichmentCalls = new Counter({
    name: `${PREFIX}enrichment_calls_total`,
    help: 'Calls to AI enrichment providers by provider and outcome.',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: `${PREFIX}enrichment_circuit_breaker_state`,
    help: 'Circuit breaker state per enrichment provider: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider'] as const,
    registers: [registry],
  });

  let queueDepthSource: QueueDepthSource | null = null;
  let queueDepthLogger: Logger | undefined;
  const queueDepth = new Gauge({
    name: `${PREFIX}queue_depth`,
    help: 'Events by status in the event store, read at each scrape.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (queueDepthSource === null) return;
      // A stale depth is misleading, so a failed read leaves the gauge empty for this scrape.
      this.reset();
      try {
        const counts = await queueDepthSource();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      } catch (error) {
        queueDepthLogger?.warn({ err: error }, 'queue depth read failed');
      }
    },
  });

  return {
    registry,
    webhookRequests,
    ingestDuration,
    eventsProcessed,
    processingDuration,
    queueDepth,
    enrichmentCalls,
    breakerState,

    recordWebhook(outcome, code, durationSeconds) {
      webhookRequests.inc({ outcome, code: code ?? 'none' });
      ingestDuration.observe({ outcome }, durationSeconds);
    },
    recordJobOutcome(sample) {
      const outcome = sample.kind === 'processed' && sample.action === 'ignore_event' ? 'ignored' : sample.kind;
      eventsProcessed.inc({ outcome, event_type: sample.eventType });
      if (sample.durationMs !== undefined) {
        processingDuration.observe({ outcome, event_type: sample.eventType }, sample.durationMs / 1000);
      }
    },
    recordEnrichmentCall(provider, outcome) {
      enrichmentCalls.inc({ provider, outcome });
    },
    setBreakerState(provider, state) {
      breakerState.set({ provider }, BREAKER_STATE_VALUES[state]);
    },
    setQueueDepthSource(source, logger) {
      queueDepthSource = source;
      queueDepthLogger = logger;
      if (source === null) queueDepth.reset();
    },
  };
}
