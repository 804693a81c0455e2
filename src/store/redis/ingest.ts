import { describeError } from '../../errors.js';
import type { EventStatus, IncomingEvent, IngestOutcome } from '../ports.js';
import type { StoreContext } from './context.js';
import { confirmQueuedScript, INGEST_CODES, ingestScript } from './scripts/ingest.js';
import { replyArray, replyCode } from './scripts/script.js';

export type RecordResult =
  | { readonly kind: 'created' }
  | { readonly kind: 'queued'; readonly status: EventStatus }
  | { readonly kind: 'enqueue_in_progress'; readonly status: EventStatus }
  | { readonly kind: 'enqueue_taken_over'; readonly status: EventStatus };

/**
 * Step 1 of ingest: records the event if its id is new, listed as unqueued until `deadline`.
 * Exported so tests can stop after it, as a process that dies before step 2 would.
 */
export async function recordEvent(
  context: Pick<StoreContext, 'redis' | 'keys' | 'retentionMs'>,
  event: IncomingEvent,
  now: number,
  deadline: number,
): Promise<RecordResult> {
  const { keys, redis } = context;
  const reply = replyArray(
    ingestScript,
    await ingestScript.run(
      redis,
      [keys.event(event.id), keys.all, keys.status('received'), keys.type(event.type), keys.types, keys.expiry, keys.unqueued, keys.sequence],
      [event.id, event.type, event.created, event.livemode ? 1 : 0, event.account ?? '', event.payload, now, context.retentionMs, deadline],
    ),
  );
  const code = replyCode(ingestScript, reply);
  if (code === INGEST_CODES.created) return { kind: 'created' };
  const status = statusOf(reply[1], event.id);
  switch (code) {
    case INGEST_CODES.queued:
      return { kind: 'queued', status };
    case INGEST_CODES.enqueueInProgress:
      return { kind: 'enqueue_in_progress', status };
    case INGEST_CODES.enqueueTakenOver:
      return { kind: 'enqueue_taken_over', status };
    default:
      throw new TypeError(`The Redis script "ingest" returned the unknown code ${code} for event ${event.id}.`);
  }
}

/** Removes the event's unqueued entry once its job exists, if the entry is still this caller's. */
export async function confirmQueued(context: StoreContext, eventId: string, deadline: number): Promise<void> {
  await confirmQueuedScript.run(context.redis, [context.keys.unqueued], [eventId, deadline]);
}

/**
 * Confirms after a successful add, but only logs a failure: the job exists, so the event may be
 * acknowledged, and a leftover entry costs the sweeper one add that BullMQ ignores.
 */
async function confirmAfterAdd(context: StoreContext, event: IncomingEvent, deadline: number): Promise<void> {
  try {
    await confirmQueued(context, event.id, deadline);
  } catch (error) {
    const fields = { eventId: event.id, eventType: event.type, err: describeError(error) };
    context.logger.warn(fields, 'confirming the queued job failed; the sweeper will confirm it');
  }
}

/**
 * Records the event and enqueues its job, resolving only once both exist.
 *
 * Redis cannot add the record and the BullMQ job in one script, so the record carries an
 * "unqueued" entry until the job is confirmed. A redelivery of a `processed` or `dead` event adds
 * no job and returns `duplicate`. For any other redelivery:
 * - Entry past its deadline: an earlier ingest died or failed between the two steps. This call
 *   enqueues the event and returns `accepted`, because no earlier delivery was acknowledged.
 * - Entry within its deadline: another instance is ingesting the same event right now. This call
 *   adds the job too (BullMQ ignores an id that exists) before it returns `duplicate`, so it
 *   never acknowledges an event whose job is missing.
 * - No entry: the job is added again, in case it was lost, and the call returns `duplicate`.
 */
export async function ingestEvent(context: StoreContext, event: IncomingEvent): Promise<IngestOutcome> {
  const now = context.clock();
  const deadline = now + context.enqueueGraceMs;
  const recorded = await recordEvent(context, event, now, deadline);
  const log = context.logger.child({ eventId: event.id, eventType: event.type });

  switch (recorded.kind) {
    case 'created':
      await context.producer.add(event.id, event.type);
      await confirmAfterAdd(context, event, deadline);
      log.debug('event recorded and enqueued');
      return { kind: 'accepted' };
    case 'enqueue_taken_over':
      await context.producer.add(event.id, event.type);
      await confirmAfterAdd(context, event, deadline);
      log.info({ status: recorded.status }, 'event enqueued on redelivery after an unfinished ingest');
      return { kind: 'accepted' };
    case 'enqueue_in_progress':
      await context.producer.add(event.id, event.type);
      return { kind: 'duplicate', status: recorded.status };
    case 'queued':
      if (recorded.status !== 'processed' && recorded.status !== 'dead') {
        await context.producer.add(event.id, event.type);
      }
      return { kind: 'duplicate', status: recorded.status };
  }
}

function statusOf(value: unknown, eventId: string): EventStatus {
  switch (value) {
    case 'received':
    case 'processing':
    case 'processed':
    case 'failed':
    case 'dead':
      return value;
    default:
      throw new TypeError(`Event ${eventId} has no readable status in Redis.`);
  }
}
