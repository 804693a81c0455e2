import { isNewer, newestEvent, rankIn, type EventVersion } from '../versions.js';

/**
 * The order model as pure data, and the one merge rule that folds an event's facts (or a second
 * row found for the same payment) into it. The merge gives the same result in any order, so the
 * final row does not depend on delivery order:
 * - ids, currency, amounts that never change and the order reference are filled when null;
 * - `amountPaid` takes the max;
 * - the payment outcome comes from the newest payment event (see `versions.ts`);
 * - the charge-reported refund total comes from the newest Charge event;
 * - a hold, once set by a manual review, stays.
 */

/** Payment outcomes ordered along their lifecycle; the rank breaks ties within one second. */
const OUTCOME_LIFECYCLE = [['payment_failed'], ['canceled', 'expired'], ['awaiting_payment'], ['paid']] as const;

export const PAYMENT_OUTCOMES = ['payment_failed', 'canceled', 'expired', 'awaiting_payment', 'paid'] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

/** `pending` means the ledger has seen the payment (for example in a refund) but not its outcome yet. */
export const ORDER_STATUSES = ['pending', ...PAYMENT_OUTCOMES, 'partially_refunded', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export function outcomeRank(outcome: string | null): number {
  return rankIn(OUTCOME_LIFECYCLE, outcome);
}

export interface OrderIds {
  readonly orderReference: string | null;
  readonly checkoutSession: string | null;
  readonly paymentIntent: string | null;
  readonly charge: string | null;
  readonly customer: string | null;
}

export interface OutcomeFacts {
  readonly value: PaymentOutcome;
  readonly version: EventVersion;
  readonly failureCode: string | null;
  readonly declineCode: string | null;
  /** Whether the customer can retry; null when the event does not tell. */
  readonly retryable: boolean | null;
}

export interface OrderState extends OrderIds {
  readonly account: string;
  readonly currency: string | null;
  readonly amountTotal: number | null;
  readonly amountPaid: number;
  readonly chargeAmountRefunded: number;
  readonly chargeAmountRefundedEventCreated: number | null;
  readonly applicationFeeAmount: number | null;
  readonly outcome: OutcomeFacts | null;
  readonly onHold: boolean;
  readonly livemode: boolean;
  readonly lastEvent: { readonly created: number; readonly eventId: string };
}

/** The facts one event reports about an order. An absent field leaves the order's value as it is. */
export interface OrderFacts {
  readonly ids: Partial<OrderIds>;
  readonly currency?: string | null;
  readonly amountTotal?: number | null;
  readonly amountPaid?: number | null;
  /** `amount_refunded` reported by a Charge event. */
  readonly chargeAmountRefunded?: number | null;
  readonly applicationFeeAmount?: number | null;
  readonly outcome?: OutcomeFacts | null;
  readonly onHold?: boolean;
}

export interface OrderEvent {
  readonly account: string;
  readonly id: string;
  readonly created: number;
  readonly livemode: boolean;
}

export function stateFromFacts(facts: OrderFacts, event: OrderEvent): OrderState {
  const chargeReported = facts.chargeAmountRefunded ?? null;
  return {
    account: event.account,
    orderReference: facts.ids.orderReference ?? null,
    checkoutSession: facts.ids.checkoutSession ?? null,
    paymentIntent: facts.ids.paymentIntent ?? null,
    charge: facts.ids.charge ?? null,
    customer: facts.ids.customer ?? null,
    currency: facts.currency ?? null,
    amountTotal: facts.amountTotal ?? null,
    amountPaid: facts.amountPaid ?? 0,
    chargeAmountRefunded: chargeReported ?? 0,
    chargeAmountRefundedEventCreated: chargeReported === null ? null : event.created,
    applicationFeeAmount: facts.applicationFeeAmount ?? null,
    outcome: facts.outcome ?? null,
    onHold: facts.onHold ?? false,
    livemode: event.livemode,
    lastEvent: { created: event.created, eventId: event.id },
  };
}

function newerChargeReport(left: OrderState, right: OrderState): Pick<OrderState, 'chargeAmountRefunded' | 'chargeAmountRefundedEventCreated'> {
  const leftCreated = left.chargeAmountRefundedEventCreated;
  const rightCreated = right.chargeAmountRefundedEventCreated;
  if (rightCreated === null) return left;
  if (leftCreated === null || rightCreated > leftCreated) return right;
  if (leftCreated > rightCreated) return left;
  // Two reports in one second: the larger total is the later one, since refunds only add up.
  return right.chargeAmountRefunded > left.chargeAmountRefunded ? right : left;
}

function newerOutcome(left: OutcomeFacts | null, right: OutcomeFacts | null): OutcomeFacts | null {
  if (right === null) return left;
  return isNewer(right.version, left?.version ?? null) ? right : left;
}

/** Folds `right` into `left` by the rules in this file's header. */
export function mergeOrderStates(left: OrderState, right: OrderState): OrderState {
  const chargeReport = newerChargeReport(left, right);
  return {
    account: left.account,
    orderReference: left.orderReference ?? right.orderReference,
    checkoutSession: left.checkoutSession ?? right.checkoutSession,
    paymentIntent: left.paymentIntent ?? right.paymentIntent,
    charge: left.charge ?? right.charge,
    customer: left.customer ?? right.customer,
    currency: left.currency ?? right.currency,
    amountTotal: left.amountTotal ?? right.amountTotal,
    amountPaid: Math.max(left.amountPaid, right.amountPaid),
    chargeAmountRefunded: chargeReport.chargeAmountRefunded,
    chargeAmountRefundedEventCreated: chargeReport.chargeAmountRefundedEventCreated,
    applicationFeeAmount: left.applicationFeeAmount ?? right.applicationFeeAmount,
    outcome: newerOutcome(left.outcome, right.outcome),
    onHold: left.onHold || right.onHold,
    livemode: left.livemode || right.livemode,
    lastEvent: newestEvent(left.lastEvent, right.lastEvent),
  };
}

/** The columns of one refund row that the refunded total reads. */
export interface RefundAmountRow {
  readonly amount: number;
  readonly status: string;
  /** The Refund's own `created`. */
  readonly refundCreated: number;
  /** `created` of the newest event applied to the refund row. */
  readonly lastEventCreated: number;
}

const COUNTED_REFUND_STATUSES: ReadonlySet<string> = new Set(['pending', 'succeeded']);
const REVERSED_REFUND_STATUSES: ReadonlySet<string> = new Set(['failed', 'canceled']);

function countedTotal(rows: readonly RefundAmountRow[]): number {
  return rows.filter((row) => COUNTED_REFUND_STATUSES.has(row.status)).reduce((total, row) => total + row.amount, 0);
}

/**
 * Computes the refunded total from the refund rows and the newest Charge report, which can each lag
 * the other. The report counts refunds created up to its event, so refunds created later are added to
 * it, and a refund it counted that failed after the report is taken off. A refund that both sides
 * describe therefore counts once.
 */
export function refundedAmount(state: OrderState, rows: readonly RefundAmountRow[]): number {
  const rowsTotal = countedTotal(rows);
  const reportedAt = state.chargeAmountRefundedEventCreated;
  if (reportedAt === null) return rowsTotal;
  const afterReport = rows.filter((row) => row.refundCreated > reportedAt);
  const reversedSinceReport = rows
    .filter((row) => row.refundCreated <= reportedAt && REVERSED_REFUND_STATUSES.has(row.status) && row.lastEventCreated > reportedAt)
    .reduce((total, row) => total + row.amount, 0);
  const fromReport = state.chargeAmountRefunded - reversedSinceReport + countedTotal(afterReport);
  return Math.max(rowsTotal, fromReport);
}

/** Derives the status users see from the outcome and the amounts, never from arrival order. */
export function orderStatus(state: OrderState, amountRefunded: number): OrderStatus {
  if (state.amountPaid > 0 && amountRefunded > 0) {
    return amountRefunded >= state.amountPaid ? 'refunded' : 'partially_refunded';
  }
  return state.outcome?.value ?? 'pending';
}

/** Returns the id that names the order in outbox dedupe keys and effects. */
export function orderRootId(state: OrderIds): string {
  return state.paymentIntent ?? state.checkoutSession ?? state.charge ?? 'unknown';
}
