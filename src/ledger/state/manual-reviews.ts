import { randomUUID } from 'node:crypto';
import type { Priority } from '../../decision/types.js';
import { toFlag, toInteger } from '../columns.js';
import type { HandlerContext } from '../handlers/context.js';
import { enqueueOutboxMessage } from '../outbox.js';
import { compareVersions, newestEvent } from '../versions.js';

/**
 * Manual reviews: tasks for a person, one per account, subject object and kind. Several events may
 * ask for the same review (an early fraud warning is created, then updated), so the row keeps the
 * highest priority asked for and the reason of the oldest event, which is the same in any
 * delivery order. Only the first request sends `manual_review.requested`.
 */

const PRIORITY_RANKS: Readonly<Record<Priority, number>> = { low: 0, normal: 1, high: 2, urgent: 3 };

function priorityRank(priority: string): number {
  return priority in PRIORITY_RANKS ? PRIORITY_RANKS[priority as Priority] : -1;
}

export interface ReviewSubject {
  /** The Stripe object under review. */
  readonly id: string;
  /** `metadata.reviewKind` of the decision, for example `dispute` or `large_payment`. */
  readonly kind: string;
  readonly paymentIntent: string | null;
  readonly charge: string | null;
}

export async function openManualReview(context: HandlerContext, subject: ReviewSubject): Promise<void> {
  const { trx, account, event, decision } = context;
  const existing = await trx
    .selectFrom('ledger_manual_reviews')
    .selectAll()
    .where('account', '=', account)
    .where('subject_id', '=', subject.id)
    .where('kind', '=', subject.kind)
    .executeTakeFirst();
  context.effects.push(`manual_review:${subject.kind}:${subject.id}`);

  if (existing === undefined) {
    await trx
      .insertInto('ledger_manual_reviews')
      .values({
        id: randomUUID(),
        account,
        subject_id: subject.id,
        kind: subject.kind,
        priority: decision.priority,
        reason: decision.reason,
        status: 'open',
        payment_intent: subject.paymentIntent,
        charge: subject.charge,
        opened_event_id: event.id,
        opened_event_created: event.created,
        livemode: toFlag(event.livemode),
        last_event_created: event.created,
        last_event_id: event.id,
        created_at: context.now.toISOString(),
      })
      .execute();
  } else {
    const opened = { created: toInteger(existing.opened_event_created), rank: 0, eventId: existing.opened_event_id };
    const thisEvent = { created: event.created, rank: 0, eventId: event.id };
    const isOlder = compareVersions(thisEvent, opened) < 0;
    const last = newestEvent({ created: toInteger(existing.last_event_created), eventId: existing.last_event_id }, thisEvent);
    await trx
      .updateTable('ledger_manual_reviews')
      .set({
        priority: priorityRank(decision.priority) > priorityRank(existing.priority) ? decision.priority : existing.priority,
        reason: isOlder ? decision.reason : existing.reason,
        opened_event_id: isOlder ? event.id : existing.opened_event_id,
        opened_event_created: isOlder ? event.created : toInteger(existing.opened_event_created),
        payment_intent: existing.payment_intent ?? subject.paymentIntent,
        charge: existing.charge ?? subject.charge,
        last_event_created: last.created,
        last_event_id: last.eventId,
      })
      .where('id', '=', existing.id)
      .execute();
  }

  const inserted = await enqueueOutboxMessage(trx, {
    topic: 'manual_review.requested',
    dedupeKey: `manual_review.requested:${account}:${subject.kind}:${subject.id}`,
    account,
    payload: {
      account,
      kind: subject.kind,
      subject: subject.id,
      priority: decision.priority,
      reason: decision.reason,
      payment_intent: subject.paymentIntent,
      charge: subject.charge,
    },
    eventId: event.id,
    now: context.now,
  });
  if (inserted) context.effects.push('outbox:manual_review.requested');
}
