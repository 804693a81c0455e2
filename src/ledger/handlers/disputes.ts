import { toFlag, toInteger } from '../columns.js';
import { disputeSchema, parseStripeObject, stripeObjectType, type Dispute } from '../stripe-objects.js';
import { isNewer, rankIn } from '../versions.js';
import { unsupportedObject, versionOf, type HandlerContext, type HandlerTable } from './context.js';

/**
 * Disputes. Status, reason and deadline come from the newest event. Money moved by the dispute
 * only accumulates (balance transactions are never removed from a dispute), so each total takes
 * the max of what any event reported.
 */

const DISPUTE_LIFECYCLE = [
  ['warning_needs_response'],
  ['warning_under_review'],
  ['warning_closed'],
  ['needs_response'],
  ['under_review'],
  ['won', 'lost', 'prevented'],
] as const;

export function disputeRank(status: string | null): number {
  return rankIn(DISPUTE_LIFECYCLE, status);
}

interface DisputeMoney {
  readonly fundsWithdrawn: number;
  readonly fundsReinstated: number;
  readonly disputeFee: number;
}

/** Splits the balance transactions into money taken (negative amounts) and given back (positive). */
export function disputeMoney(dispute: Dispute): DisputeMoney {
  let fundsWithdrawn = 0;
  let fundsReinstated = 0;
  let disputeFee = 0;
  for (const transaction of dispute.balance_transactions) {
    if (transaction.amount < 0) fundsWithdrawn -= transaction.amount;
    else fundsReinstated += transaction.amount;
    disputeFee += transaction.fee;
  }
  return { fundsWithdrawn, fundsReinstated, disputeFee };
}

/** Computes the merchant's loss on a lost dispute: the money that stayed withdrawn plus the fee. */
export function disputeNetLoss(status: string, money: DisputeMoney): number | null {
  if (status !== 'lost') return null;
  return money.fundsWithdrawn - money.fundsReinstated + money.disputeFee;
}

/** Writes the dispute row from a Dispute event. */
export async function upsertDispute(context: HandlerContext, dispute: Dispute): Promise<void> {
  const { trx, account, event } = context;
  const existing = await trx
    .selectFrom('ledger_disputes')
    .selectAll()
    .where('account', '=', account)
    .where('dispute_id', '=', dispute.id)
    .executeTakeFirst();
  const reported = disputeMoney(dispute);
  context.effects.push(`dispute:${dispute.id}`);

  const newer =
    existing === undefined ||
    isNewer(versionOf(context, disputeRank(dispute.status)), {
      created: toInteger(existing.last_event_created),
      rank: disputeRank(existing.status),
      eventId: existing.last_event_id,
    });
  const money: DisputeMoney =
    existing === undefined
      ? reported
      : {
          fundsWithdrawn: Math.max(reported.fundsWithdrawn, toInteger(existing.funds_withdrawn)),
          fundsReinstated: Math.max(reported.fundsReinstated, toInteger(existing.funds_reinstated)),
          disputeFee: Math.max(reported.disputeFee, toInteger(existing.dispute_fee)),
        };
  const latest = newer
    ? {
        status: dispute.status,
        reason: dispute.reason,
        amount: dispute.amount,
        currency: dispute.currency,
        evidence_due_by: dispute.evidence_details?.due_by ?? null,
        last_event_created: event.created,
        last_event_id: event.id,
      }
    : {
        status: existing.status,
        reason: existing.reason,
        amount: toInteger(existing.amount),
        currency: existing.currency,
        evidence_due_by: existing.evidence_due_by === null ? null : toInteger(existing.evidence_due_by),
        last_event_created: toInteger(existing.last_event_created),
        last_event_id: existing.last_event_id,
      };
  const values = {
    ...latest,
    account,
    dispute_id: dispute.id,
    charge: existing?.charge ?? dispute.charge,
    payment_intent: existing?.payment_intent ?? dispute.payment_intent,
    funds_withdrawn: money.fundsWithdrawn,
    funds_reinstated: money.fundsReinstated,
    dispute_fee: money.disputeFee,
    net_loss: disputeNetLoss(latest.status, money),
    livemode: toFlag(event.livemode),
  };
  if (existing === undefined) {
    await trx.insertInto('ledger_disputes').values(values).execute();
  } else {
    await trx.updateTable('ledger_disputes').set(values).where('account', '=', account).where('dispute_id', '=', dispute.id).execute();
  }
}

export function parseDispute(context: HandlerContext): Dispute {
  const type = stripeObjectType(context.event);
  if (type !== 'dispute') throw unsupportedObject(context, type);
  return parseStripeObject(context.event, disputeSchema);
}

async function updateDispute(context: HandlerContext): Promise<void> {
  await upsertDispute(context, parseDispute(context));
}

export const disputeHandlers = {
  update_dispute: updateDispute,
} satisfies HandlerTable;
