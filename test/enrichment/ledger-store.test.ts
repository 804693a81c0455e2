import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEnrichment, findEnrichments, recordEnrichment, type NewEnrichmentRecord } from '../../src/enrichment/ledger-store.js';
import { enrichmentsMigration } from '../../src/ledger/migrations/0002_enrichments.js';
import { ledgerMigrations } from '../../src/ledger/migrations/index.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { openPostgresLedger, openSqliteLedger } from './support/databases.js';

const okRecord: NewEnrichmentRecord = {
  eventId: 'evt_1LedgerStore0001',
  task: 'dispute_summary',
  account: null,
  eventType: 'charge.dispute.created',
  provider: 'gemini',
  model: 'gemini-test-001',
  outcome: 'ok',
  advice: { summary: 'Fraud dispute.', priority: 'urgent', riskLevel: 'high', recommendedActions: [] },
  error: null,
  latencyMs: 812,
};

it('registers the enrichment migration after the ledger schema', () => {
  expect(Object.keys(ledgerMigrations)).toContain('0002_enrichments');
  expect(ledgerMigrations['0002_enrichments']).toBe(enrichmentsMigration);
  expect(Object.keys(ledgerMigrations).sort().indexOf('0002_enrichments')).toBeGreaterThan(0);
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`ledger_enrichments on ${backend}`, () => {
    let ledger: Kysely<LedgerDatabase>;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const opened = backend === 'sqlite' ? await openSqliteLedger('store') : await openPostgresLedger('store');
      ledger = opened.ledger;
      close = () => opened.close();
    });
    afterAll(async () => {
      await close();
    });

    it('stores and reads back a result', async () => {
      const written = await recordEnrichment(ledger, okRecord, new Date('2026-09-01T10:00:00.000Z'));
      expect(written).toBe(true);

      const found = await findEnrichment(ledger, okRecord.eventId, 'dispute_summary');
      expect(found).toEqual({ ...okRecord, createdAt: new Date('2026-09-01T10:00:00.000Z') });
    });

    it('keeps the first result of an event and task', async () => {
      const second = await recordEnrichment(ledger, { ...okRecord, outcome: 'failed', advice: null, error: 'later' }, new Date('2026-09-01T11:00:00.000Z'));
      expect(second).toBe(false);

      const found = await findEnrichment(ledger, okRecord.eventId, 'dispute_summary');
      expect(found?.outcome).toBe('ok');
      expect(found?.createdAt).toEqual(new Date('2026-09-01T10:00:00.000Z'));
    });

    it('replaces a result skipped by an open breaker', async () => {
      const skipped: NewEnrichmentRecord = {
        ...okRecord,
        eventId: 'evt_1LedgerStore0002',
        account: 'acct_1QfakeCoNNectAcc',
        outcome: 'skipped_breaker_open',
        advice: null,
        error: 'the circuit breaker was open',
        latencyMs: 0,
      };
      expect(await recordEnrichment(ledger, skipped, new Date('2026-09-02T10:00:00.000Z'))).toBe(true);
      expect(await recordEnrichment(ledger, { ...skipped, outcome: 'ok', advice: okRecord.advice, error: null }, new Date('2026-09-02T10:05:00.000Z'))).toBe(true);

      const found = await findEnrichment(ledger, skipped.eventId, 'dispute_summary');
      expect(found?.outcome).toBe('ok');
      expect(found?.account).toBe('acct_1QfakeCoNNectAcc');
      expect(found?.advice).toEqual(okRecord.advice);
    });

    it('lists every task of an event', async () => {
      await recordEnrichment(
        ledger,
        { ...okRecord, task: 'manual_review_triage', outcome: 'unavailable', advice: null, error: 'the reply is not valid JSON' },
        new Date('2026-09-01T12:00:00.000Z'),
      );

      const found = await findEnrichments(ledger, okRecord.eventId);
      expect(found.map((record) => [record.task, record.outcome])).toEqual([
        ['dispute_summary', 'ok'],
        ['manual_review_triage', 'unavailable'],
      ]);
      expect(await findEnrichments(ledger, 'evt_unknown')).toEqual([]);
    });

    it('rejects an outcome outside the list', async () => {
      const bad = { ...okRecord, eventId: 'evt_1LedgerStore0003', outcome: 'maybe' } as unknown as NewEnrichmentRecord;
      await expect(recordEnrichment(ledger, bad, new Date())).rejects.toThrow();
    });
  });
}
