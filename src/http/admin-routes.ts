import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { InvalidTransitionError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OutboxListFilter, OutboxMessageView, OutboxRetryResult } from '../outbox/admin.js';
import type { EventStatus, EventStore, JobQueue } from '../store/ports.js';
import { parseEventType, parseInclude, parseLimit, parseOutboxStatus, parseStatus } from './admin-query.js';
import { NotReplayableError, OutboxNotRetryableError, UnauthorizedError } from './errors.js';
import { eventView } from './event-view.js';

/** States `JobQueue.replay` accepts; a replay in any other state gets 409. */
const REPLAYABLE_STATUSES: readonly EventStatus[] = ['failed', 'dead'];

export interface AdminRouteDependencies {
  /** The bearer token every admin request must carry (ADMIN_TOKEN). */
  readonly token: string;
  readonly events: EventStore;
  readonly queue: JobQueue;
  readonly logger: Logger;
  readonly findLedgerRecord: (stripeObjectId: string) => Promise<unknown>;
  readonly findEnrichments?: ((eventId: string) => Promise<unknown[]>) | undefined;
  /** Lists ledger outbox messages for `GET /admin/outbox`; the route is absent without it. */
  readonly listOutbox?: ((filter: OutboxListFilter) => Promise<OutboxMessageView[]>) | undefined;
  /** Moves a failed outbox message back to pending for `POST /admin/outbox/:id/retry`. */
  readonly retryOutboxMessage?: ((messageId: string) => Promise<OutboxRetryResult>) | undefined;
}

/**
 * Creates the admin API, mounted under `/admin`: inspect events and dead letters, replay an event,
 * read the ledger record of a Stripe object, list and retry outbox messages. Every route needs the
 * bearer token.
 */
export function createAdminRoutes(deps: AdminRouteDependencies): Hono {
  const app = new Hono();
  app.use('*', requireBearerToken(deps.token));

  app.get('/events/:id', async (c) => {
    const id = c.req.param('id');
    const { includePayload } = parseInclude(c.req.query('include'));
    const record = await deps.events.get(id);
    if (record === null) throw new NotFoundError('Event', id);
    const enrichments = deps.findEnrichments === undefined ? [] : await deps.findEnrichments(id);
    return c.json({ ...eventView(record, { includePayload }), enrichments });
  });

  app.get('/events', async (c) => {
    const filter = {
      status: parseStatus(c.req.query('status')),
      type: parseEventType(c.req.query('type')),
      limit: parseLimit(c.req.query('limit')),
    };
    const records = await deps.events.list(filter);
    return c.json({ events: records.map((record) => eventView(record)) });
  });

  app.post('/events/:id/replay', async (c) => {
    const id = c.req.param('id');
    const record = await replay(deps.queue, id);
    deps.logger.info({ eventId: id, eventType: record.type }, 'event replayed');
    return c.json(eventView(record), 202);
  });

  app.get('/dead-letters', async (c) => {
    const records = await deps.queue.listDeadLetters(parseLimit(c.req.query('limit')));
    return c.json({ events: records.map((record) => eventView(record)) });
  });

  app.get('/ledger/:stripeObjectId', async (c) => {
    const stripeObjectId = c.req.param('stripeObjectId');
    const record = await deps.findLedgerRecord(stripeObjectId);
    if (record === null || record === undefined) throw new NotFoundError('Ledger record for', stripeObjectId);
    return c.body(JSON.stringify(record), 200, { 'Content-Type': 'application/json; charset=UTF-8' });
  });

  const { listOutbox, retryOutboxMessage } = deps;
  if (listOutbox !== undefined) {
    app.get('/outbox', async (c) => {
      const messages = await listOutbox({ status: parseOutboxStatus(c.req.query('status')), limit: parseLimit(c.req.query('limit')) });
      return c.json({ messages });
    });
  }
  if (retryOutboxMessage !== undefined) {
    app.post('/outbox/:id/retry', async (c) => {
      const id = c.req.param('id');
      const result = await retryOutboxMessage(id);
      switch (result.kind) {
        case 'not_found':
          throw new NotFoundError('Outbox message', id);
        case 'not_failed':
          throw new OutboxNotRetryableError(id, result.status);
        case 'retried':
          deps.logger.info({ messageId: id, topic: result.message.topic }, 'outbox message queued again');
          return c.json(result.message, 202);
      }
    });
  }

  return app;
}

async function replay(queue: JobQueue, eventId: string): ReturnType<JobQueue['replay']> {
  try {
    return await queue.replay(eventId);
  } catch (error) {
    if (error instanceof InvalidTransitionError) {
      const status = typeof error.context.from === 'string' ? error.context.from : 'in another state';
      throw new NotReplayableError(eventId, status, REPLAYABLE_STATUSES);
    }
    throw error;
  }
}

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed to SHA-256 first so the
 * constant-time comparison always compares equal lengths and leaks neither the token nor its length.
 */
function requireBearerToken(token: string): MiddlewareHandler {
  const expectedDigest = sha256(token);
  return async (c, next) => {
    const presented = bearerTokenOf(c.req.header('authorization'));
    if (presented === null) throw new UnauthorizedError(false);
    if (!timingSafeEqual(sha256(presented), expectedDigest)) throw new UnauthorizedError(true);
    await next();
  };
}

function bearerTokenOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1] ?? null;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
