import { z } from 'zod';
import { ACTIONS, type AiTaskType, type Decision, type Priority } from '../../decision/types.js';
import type { Logger } from '../../logger.js';
import { EVENT_STATUSES, type EventRecord, type EventStatus } from '../ports.js';

/** One row of `pipeline_events` as better-sqlite3 returns it (times in epoch milliseconds). */
export interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly livemode: number;
  readonly account: string | null;
  readonly payload: string;
  readonly status: string;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly decision: string | null;
  readonly received_at: number;
  readonly updated_at: number;
  readonly processed_at: number | null;
  readonly due_at: number | null;
  readonly lease_token: string | null;
}

export const EVENT_COLUMNS =
  'id, type, created, livemode, account, payload, status, attempts, last_error, decision, received_at, updated_at, processed_at, due_at, lease_token';

// Objects keyed by every member of the union, so adding a task type or priority without listing it
// here fails to compile instead of making stored decisions unreadable.
const AI_TASKS = {
  dispute_summary: 'dispute_summary',
  fraud_risk_assessment: 'fraud_risk_assessment',
  manual_review_triage: 'manual_review_triage',
  failed_payment_outreach_draft: 'failed_payment_outreach_draft',
} as const satisfies { readonly [Task in AiTaskType]: Task };

const PRIORITIES = { low: 'low', normal: 'normal', high: 'high', urgent: 'urgent' } as const satisfies {
  readonly [Level in Priority]: Level;
};

const decisionSchema = z.object({
  action: z.enum(ACTIONS),
  reason: z.string(),
  priority: z.enum(PRIORITIES),
  requiresAi: z.boolean(),
  aiTask: z.enum(AI_TASKS).nullable(),
  provider: z.string().nullable(),
  retryable: z.boolean(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export function isEventStatus(value: string): value is EventStatus {
  return (EVENT_STATUSES as readonly string[]).includes(value);
}

/**
 * Parses the stored decision JSON. A value this version cannot read (written by a newer version,
 * or edited by hand) is logged and shown as null rather than failing the whole read.
 */
export function parseStoredDecision(text: string | null, eventId: string, logger: Logger): Decision | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes part of the text, so only the id is logged.
    logger.warn({ eventId }, 'stored decision is not valid JSON; shown as null');
    return null;
  }
  const result = decisionSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    logger.warn({ eventId, field: issue?.path.join('.') ?? '' }, 'stored decision does not match the decision schema; shown as null');
    return null;
  }
  const decision: Decision = result.data;
  return decision;
}

export function toEventRecord(row: EventRow, logger: Logger): EventRecord {
  if (!isEventStatus(row.status)) {
    // The CHECK constraint on the column makes this unreachable unless the file was edited by hand.
    throw new TypeError(`Event ${row.id} has the unknown status "${row.status}" in pipeline_events.`);
  }
  const queued = row.status === 'received' || row.status === 'failed';
  return {
    id: row.id,
    type: row.type,
    created: row.created,
    livemode: row.livemode === 1,
    account: row.account,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    decision: parseStoredDecision(row.decision, row.id, logger),
    receivedAt: new Date(row.received_at),
    updatedAt: new Date(row.updated_at),
    // For a `processing` event `due_at` is the lease expiry, which is not a planned attempt.
    nextAttemptAt: queued && row.due_at !== null ? new Date(row.due_at) : null,
    processedAt: row.processed_at === null ? null : new Date(row.processed_at),
  };
}
