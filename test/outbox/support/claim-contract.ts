import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerDatabase } from '../../../src/ledger/schema.js';
import { ManualClock } from '../../support/manual-clock.js';
import { countByStatus, enqueueMessage, readMessage, TEST_BACKOFF, testRelay } from './messages.js';
import { TestReceiver } from './receiver.js';

/** Two handles on one ledger, as two worker processes would hold them. */
export interface SharedLedger {
  readonly first: Kysely<LedgerDatabase>;
  readonly second: Kysely<LedgerDatabase>;
  /** Removes every outbox message, so each test starts empty. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

const RELAY_LEASE_MS = 35_000;

/**
 * Claim tests that run on SQLite and on PostgreSQL: two relays on one ledger never send one
 * message at the same time, and together send every message once. A sent message also keeps no
 * error from an earlier attempt.
 */
export function describeClaims(label: string, open: () => Promise<SharedLedger>): void {
  describe(`outbox claims on ${label}`, () => {
    let ledger: SharedLedger;
    let receiver: TestReceiver;
    let clock: ManualClock;

    beforeEach(async () => {
      ledger = await open();
      await ledger.clear();
      clock = new ManualClock();
      receiver = await TestReceiver.start({ now: clock.now });
    });

    afterEach(async () => {
      await receiver.close();
      await ledger.close();
    });

    it('keeps a leased message from a second relay', async () => {
      const held = await enqueueMessage(ledger.first, clock, { account: 'acct_A' });
      clock.advance(1);
      const free = await enqueueMessage(ledger.first, clock, { account: 'acct_B' });
      receiver.replyFor(held, 'hold');
      const relayA = testRelay(ledger.first, receiver, clock, { batchSize: 1 });
      const relayB = testRelay(ledger.second, receiver, clock);

      const batchA = relayA.processBatch();
      await receiver.waitForRequests(1);
      expect(await relayB.processBatch()).toEqual({ sent: 1, retried: 0, failed: 0, skipped: 0 });
      expect(receiver.receiptsFor(free)).toHaveLength(1);
      expect(receiver.receiptsFor(held)).toHaveLength(1);

      receiver.releaseHeld();
      expect(await batchA).toEqual({ sent: 1, retried: 0, failed: 0, skipped: 0 });
      expect(receiver.receiptsFor(held)).toHaveLength(1);
      expect(await countByStatus(ledger.first)).toEqual({ sent: 2 });
    });

    it('claims an expired lease again and discards the late outcome', async () => {
      const id = await enqueueMessage(ledger.first, clock);
      receiver.replyFor(id, 'hold');
      const relayA = testRelay(ledger.first, receiver, clock, { leaseMs: RELAY_LEASE_MS });
      const relayB = testRelay(ledger.second, receiver, clock, { leaseMs: RELAY_LEASE_MS });

      const batchA = relayA.processBatch();
      await receiver.waitForRequests(1);
      clock.advance(RELAY_LEASE_MS - 1);
      expect(await relayB.processBatch()).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 0 });
      clock.advance(2);
      expect(await relayB.processBatch()).toEqual({ sent: 1, retried: 0, failed: 0, skipped: 0 });

      receiver.releaseHeld();
      expect(await batchA).toEqual({ sent: 0, retried: 0, failed: 0, skipped: 1 });
      // At least once: the receiver got the message twice and deduplicates it by Idempotency-Key.
      expect(receiver.receiptsFor(id)).toHaveLength(2);
      const row = await readMessage(ledger.first, id);
      expect(row.status).toBe('sent');
      expect(Number(row.attempts)).toBe(1);
    });

    it('sent message loses its last error', async () => {
      const id = await enqueueMessage(ledger.first, clock);
      receiver.replyFor(id, 500);
      const relay = testRelay(ledger.first, receiver, clock);
      expect(await relay.processBatch()).toMatchObject({ retried: 1 });
      expect((await readMessage(ledger.first, id)).last_error).toContain('HTTP 500');

      clock.advance(TEST_BACKOFF.maxMs);
      expect(await relay.processBatch()).toMatchObject({ sent: 1 });

      const row = await readMessage(ledger.first, id);
      expect(row.status).toBe('sent');
      expect(Number(row.attempts)).toBe(2);
      expect(row.last_error).toBeNull();
    });

    it('sends every message once with two relays racing', async () => {
      const accounts = ['acct_1', 'acct_2', 'acct_3', 'acct_4', 'acct_5', 'acct_6', 'acct_7', 'acct_8'];
      const expectedOrder = new Map<string, string[]>();
      for (let round = 0; round < 4; round += 1) {
        for (const account of accounts) {
          const id = await enqueueMessage(round % 2 === 0 ? ledger.first : ledger.second, clock, { account });
          expectedOrder.set(account, [...(expectedOrder.get(account) ?? []), id]);
          clock.advance(1);
        }
      }
      const relays = [testRelay(ledger.first, receiver, clock), testRelay(ledger.second, receiver, clock)];

      const totals = { sent: 0, skipped: 0 };
      for (let round = 0; round < 50 && (await countByStatus(ledger.first)).pending !== undefined; round += 1) {
        for (const result of await Promise.all(relays.map((relay) => relay.processBatch()))) {
          totals.sent += result.sent;
          totals.skipped += result.skipped;
        }
      }

      expect(await countByStatus(ledger.first)).toEqual({ sent: 32 });
      expect(totals.sent).toBe(32);
      // Both relays read the same due messages, so the claims really raced and one side lost them.
      expect(totals.skipped).toBeGreaterThan(0);
      const perKey = new Map<string, number>();
      for (const receipt of receiver.receipts) perKey.set(receipt.idempotencyKey ?? '', (perKey.get(receipt.idempotencyKey ?? '') ?? 0) + 1);
      expect(perKey.size).toBe(32);
      expect([...perKey.values()].every((count) => count === 1)).toBe(true);
      expect(receiver.receipts.every((receipt) => receipt.signatureProblem === null)).toBe(true);
      for (const [account, ids] of expectedOrder) {
        const received = receiver.receipts.map((receipt) => receipt.idempotencyKey).filter((key) => key !== null && ids.includes(key));
        expect({ account, received }).toEqual({ account, received: ids });
      }
    });
  });
}
