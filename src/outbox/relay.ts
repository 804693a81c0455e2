import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { describeError } from '../errors.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../store/ports.js';
import { retryDelayMs } from '../worker/backoff.js';
import type { OutboxDeliveryRow } from './delivery-table.js';
import { describeSendFailure, sendOutboxRequest } from './send.js';
import { OUTBOX_SIGNATURE_HEADER, signOutboxBody } from './signature.js';
import { claimMessage, recordAttempt, selectDueMessages, type AttemptOutcome } from './store.js';
import { IdleWait } from '../worker/idle-wait.js';

/** Defaults of the options that have no setting of their own; starting points, not measured optima. */
export const OUTBOX_RELAY_DEFAULTS = {
  /** Messages claimed and sent at once per batch; they belong to different accounts. */
  batchSize: 10,
  /** Added to the request timeout to form the lease, for the database writes around the request. */
  leaseMarginMs: 30_000,
  /** Maximum wait between batches while the ledger keeps failing. */
  errorBackoffMaxMs: 30_000,
} as const;

export interface OutboxRelayOptions {
  readonly ledger: Kysely<LedgerDatabase>;
  /** The receiver's URL (OUTBOX_WEBHOOK_URL). Never logged, because it may carry a token. */
  readonly url: string;
  /** Key of the `X-Pipeline-Signature` HMAC (OUTBOX_SIGNING_SECRET). */
  readonly signingSecret: string;
  /** Attempts per message, including the first; the message is `failed` after the last one fails. */
  readonly maxAttempts: number;
  /** Time limit of one request, in milliseconds. */
  readonly timeoutMs: number;
  /** Wait between batches while nothing is due, in milliseconds. */
  readonly pollIntervalMs: number;
  /** Delay before attempt n + 1 is `retryDelayMs(n, backoff)`. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** Source of the backoff jitter, uniform in [0, 1); Math.random by default. */
  readonly random?: (() => number) | undefined;
  readonly batchSize?: number | undefined;
  /** Duration of the lease a claim takes on a message; by default the request timeout plus 30 s. */
  readonly leaseMs?: number | undefined;
}

/** Counts of one batch. `skipped` messages were claimed or finished by another relay first. */
export interface OutboxBatchResult {
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
  readonly skipped: number;
}

type DeliveryOutcome = keyof OutboxBatchResult;

/**
 * Sends pending ledger outbox messages to the user's receiver, at least once and in creation
 * order per account. Each message is claimed under a lease before the POST, so several relays on
 * one ledger never send the same message at the same time. A non-2xx response, a timeout or a
 * network error schedules the next attempt with backoff. After `maxAttempts` the message is
 * `failed` until an operator retries it.
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly idle = new IdleWait();
  private loop: Promise<void> | null = null;
  private running = false;

  constructor(options: OutboxRelayOptions) {
    requireWholeNumber('maxAttempts', options.maxAttempts, 1);
    requireWholeNumber('timeoutMs', options.timeoutMs, 1);
    requireWholeNumber('pollIntervalMs', options.pollIntervalMs, 1);
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? OUTBOX_RELAY_DEFAULTS.batchSize;
    this.leaseMs = options.leaseMs ?? options.timeoutMs + OUTBOX_RELAY_DEFAULTS.leaseMarginMs;
    requireWholeNumber('batchSize', this.batchSize, 1);
    // A lease shorter than the request would let a second relay send the message while it is in flight.
    requireWholeNumber('leaseMs', this.leaseMs, options.timeoutMs + 1);
  }

  /** Starts the polling loop; calling it again while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
    this.options.logger.info({ receiver: new URL(this.options.url).origin, maxAttempts: this.options.maxAttempts }, 'outbox relay started');
  }

  /** Wakes the loop so a message written or retried just now goes out without waiting for the next poll. */
  notify(): void {
    this.idle.wakeAll();
  }

  /**
   * Stops polling and waits for the batch in flight, whose requests each end within `timeoutMs`.
   * A message whose outcome could not be recorded is sent again after its lease expires.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.notify();
    await this.loop;
    this.loop = null;
    this.options.logger.info('outbox relay stopped');
  }

  /**
   * Sends one batch: up to `batchSize` due messages, at most one per account, at the same time.
   * Rejects only when the due messages cannot be read; a failure on one message is logged and
   * counted as skipped. Used by the loop, and by tests that drive the relay step by step.
   */
  async processBatch(): Promise<OutboxBatchResult> {
    const rows = await selectDueMessages(this.options.ledger, { now: isoAt(this.clock()), limit: this.batchSize });
    const outcomes = await Promise.all(rows.map((row) => this.deliverSafely(row)));
    const counts: Record<DeliveryOutcome, number> = { sent: 0, retried: 0, failed: 0, skipped: 0 };
    for (const outcome of outcomes) counts[outcome] += 1;
    return counts;
  }

  private async runLoop(): Promise<void> {
    let consecutiveErrors = 0;
    while (this.running) {
      let worked = false;
      try {
        const result = await this.processBatch();
        worked = result.sent + result.retried + result.failed > 0;
        consecutiveErrors = 0;
      } catch (error) {
        consecutiveErrors += 1;
        // The first failure and every tenth after it, so a ledger outage does not flood the log.
        if (consecutiveErrors === 1 || consecutiveErrors % 10 === 0) {
          this.options.logger.error({ consecutiveErrors, err: describeError(error) }, 'reading due outbox messages failed');
        }
      }
      if (worked || !this.running) continue;
      const { pollIntervalMs } = this.options;
      const waitMs = consecutiveErrors === 0 ? pollIntervalMs : Math.min(pollIntervalMs * 2 ** consecutiveErrors, OUTBOX_RELAY_DEFAULTS.errorBackoffMaxMs);
      await this.sleep(waitMs);
    }
  }

  private async deliverSafely(row: OutboxDeliveryRow): Promise<DeliveryOutcome> {
    try {
      return await this.deliver(row);
    } catch (error) {
      // The ledger failed around the request. The lease expires and the message is claimed again,
      // so the receiver may get it twice; it deduplicates by message id.
      this.options.logger.error({ messageId: row.id, topic: row.topic, err: describeError(error) }, 'outbox delivery could not be recorded');
      return 'skipped';
    }
  }

  private async deliver(row: OutboxDeliveryRow): Promise<DeliveryOutcome> {
    const { ledger, logger } = this.options;
    const token = randomUUID();
    const claimedAt = this.clock();
    const attempts = Number(row.attempts);
    const claimed = await claimMessage(ledger, { id: row.id, attempts, token, now: isoAt(claimedAt), leaseUntil: isoAt(claimedAt + this.leaseMs) });
    if (!claimed) return 'skipped';

    const attempt = attempts + 1;
    const log = logger.child({ messageId: row.id, topic: row.topic, attempt });
    const body = JSON.stringify(messageBody(row));
    const result = await sendOutboxRequest({
      url: this.options.url,
      body,
      timeoutMs: this.options.timeoutMs,
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': row.id,
        [OUTBOX_SIGNATURE_HEADER]: signOutboxBody(body, this.options.signingSecret, Math.floor(claimedAt / 1000)),
      },
    });

    const finishedAt = this.clock();
    const outcome = this.outcomeOf(result, attempt, finishedAt);
    const recorded = await recordAttempt(ledger, { id: row.id, token, attempt }, outcome);
    if (!recorded) {
      log.warn({ outcome: outcome.kind }, 'outbox lease expired before the outcome was recorded; another relay owns the message');
      return 'skipped';
    }

    switch (outcome.kind) {
      case 'sent':
        log.info({ httpStatus: result.kind === 'delivered' ? result.status : null }, 'outbox message sent');
        return 'sent';
      case 'retry':
        log.warn({ err: outcome.error, nextAttemptAt: outcome.nextAttemptAt }, 'outbox delivery failed; retry scheduled');
        return 'retried';
      case 'failed':
        log.error({ err: outcome.error, maxAttempts: this.options.maxAttempts }, 'outbox message failed after its last attempt');
        return 'failed';
    }
  }

  private outcomeOf(result: Awaited<ReturnType<typeof sendOutboxRequest>>, attempt: number, finishedAt: number): AttemptOutcome {
    if (result.kind === 'delivered') return { kind: 'sent', sentAt: isoAt(finishedAt) };
    const error = describeSendFailure(result);
    if (attempt >= this.options.maxAttempts) return { kind: 'failed', error };
    const delayMs = retryDelayMs(attempt, { ...this.options.backoff, random: this.options.random });
    return { kind: 'retry', error, nextAttemptAt: isoAt(finishedAt + delayMs) };
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.idle.sleep(ms);
  }
}

/** Builds the JSON body of a request: the message and its payload, which the ledger stores as JSON text. */
function messageBody(row: OutboxDeliveryRow): Record<string, unknown> {
  return {
    id: row.id,
    topic: row.topic,
    account: row.account,
    created_event_id: row.created_event_id,
    created_at: row.created_at,
    payload: JSON.parse(row.payload) as unknown,
  };
}

function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

function requireWholeNumber(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} should be a whole number of at least ${min}, got ${value}`);
  }
}
