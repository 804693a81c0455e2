import type { Hono } from 'hono';
import type { Backend } from '../../../src/backend/types.js';
import type { Config } from '../../../src/config/config.js';
import { createApp } from '../../../src/http/app.js';
import { createSilentLogger, type Logger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { listOutboxMessages, retryOutboxMessage } from '../../../src/outbox/admin.js';

export const ADMIN_TOKEN = 'outbox-admin-token-0123456789abcdef';
export const ADMIN_HEADERS = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Builds the HTTP application on a real backend, with the outbox admin routes wired as the service wires them. */
export function adminApp(backend: Backend, config: Config, logger: Logger = createSilentLogger()): Hono {
  return createApp({
    config,
    events: backend.events,
    queue: backend.queue,
    logger,
    metrics: createMetrics(),
    readiness: () => backend.readiness(),
    findLedgerRecord: () => Promise.resolve(null),
    listOutbox: (filter) => listOutboxMessages(backend.ledger, filter),
    retryOutboxMessage: (messageId) => retryOutboxMessage(backend.ledger, messageId),
  });
}
