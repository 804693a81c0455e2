import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../store/ports.js';
import { OutboxRelay } from './relay.js';

/**
 * Builds the relay from the configuration, or returns null when OUTBOX_WEBHOOK_URL is unset: then
 * messages stay `pending` and the admin API lists them. Retries use the worker's backoff settings
 * (RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS).
 */
export function createOutboxRelay(options: {
  config: Config;
  ledger: Kysely<LedgerDatabase>;
  logger: Logger;
  clock?: Clock;
}): OutboxRelay | null {
  const { outbox, worker } = options.config;
  if (outbox.webhookUrl === undefined || outbox.signingSecret === undefined) return null;
  return new OutboxRelay({
    ledger: options.ledger,
    url: outbox.webhookUrl,
    signingSecret: outbox.signingSecret,
    maxAttempts: outbox.maxAttempts,
    timeoutMs: outbox.timeoutMs,
    pollIntervalMs: outbox.pollIntervalMs,
    backoff: { baseMs: worker.backoffBaseMs, maxMs: worker.backoffMaxMs },
    logger: options.logger.child({ component: 'outbox' }),
    clock: options.clock,
  });
}
