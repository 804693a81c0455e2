import type { Kysely } from 'kysely';
import { enqueueOutboxMessage, type OutboxTopic } from '../../../src/ledger/outbox.js';
import type { LedgerDatabase } from '../../../src/ledger/schema.js';
import type { Logger } from '../../../src/logger.js';
import { createSilentLogger } from '../../../src/logger.js';
import { withDeliveryColumns, type OutboxDeliveryRow } from '../../../src/outbox/delivery-table.js';
import { OutboxRelay, type OutboxRelayOptions } from '../../../src/outbox/relay.js';
import type { ManualClock } from '../../support/manual-clock.js';
import { RECEIVER_SECRET, type TestReceiver } from './receiver.js';

/** Backoff of the test relays: 1 s, 2 s, 4 s … capped at 8 s, with the jitter drawn at its midpoint. */
export const TEST_BACKOFF = { baseMs: 1000, maxMs: 8000 } as const;

export interface TestMessage {
  readonly topic?: OutboxTopic;
  readonly account?: string;
  /** Unique per message; the default is unique per call. */
  readonly dedupeKey?: string;
  readonly payload?: Record<string, string | number | boolean | null>;
  readonly eventId?: string;
}

let sequence = 0;

/** Writes one pending message the way a ledger handler does, at the clock's current time; returns its id. */
export async function enqueueMessage(ledger: Kysely<LedgerDatabase>, clock: ManualClock, message: TestMessage = {}): Promise<string> {
  sequence += 1;
  const dedupeKey = message.dedupeKey ?? `test:${process.pid}:${sequence}`;
  await ledger.transaction().execute((trx) =>
    enqueueOutboxMessage(trx, {
      topic: message.topic ?? 'order.paid',
      dedupeKey,
      account: message.account ?? '',
      payload: message.payload ?? { order_reference: `order_${sequence}`, amount_paid: 2500, currency: 'eur' },
      eventId: message.eventId ?? `evt_test_${sequence}`,
      now: new Date(clock.now()),
    }),
  );
  const row = await ledger.selectFrom('ledger_outbox').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
  return row.id;
}

/** Reads one message with its delivery columns. */
export async function readMessage(ledger: Kysely<LedgerDatabase>, id: string): Promise<OutboxDeliveryRow> {
  return withDeliveryColumns(ledger).selectFrom('ledger_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Counts the messages in each status. */
export async function countByStatus(ledger: Kysely<LedgerDatabase>): Promise<Record<string, number>> {
  const rows = await ledger.selectFrom('ledger_outbox').select(['status']).execute();
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  return counts;
}

/** Builds a relay aimed at `receiver`, on the manual clock, with a fixed jitter draw. */
export function testRelay(
  ledger: Kysely<LedgerDatabase>,
  receiver: TestReceiver,
  clock: ManualClock,
  overrides: Partial<OutboxRelayOptions> & { logger?: Logger } = {},
): OutboxRelay {
  return new OutboxRelay({
    ledger,
    url: receiver.url,
    signingSecret: RECEIVER_SECRET,
    maxAttempts: 10,
    timeoutMs: 5000,
    pollIntervalMs: 20,
    backoff: TEST_BACKOFF,
    logger: createSilentLogger(),
    clock: clock.now,
    random: () => 0.5,
    ...overrides,
  });
}
