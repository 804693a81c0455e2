import type { Kysely } from 'kysely';
import type { LedgerRecord } from '../ledger/read.js';
import type { ManualReviewRecord } from '../ledger/records.js';
import { findEnrichments, type EnrichmentRecord } from './ledger-store.js';

export type ReviewWithAdvice = ManualReviewRecord & { readonly enrichments: EnrichmentRecord[] };

/**
 * Adds to each manual review in a ledger record the AI advice recorded for the event that opened
 * it, so the advice appears beside the facts for the person reviewing the case.
 */
export async function withReviewAdvice<DB>(db: Kysely<DB>, found: LedgerRecord | null): Promise<LedgerRecord | null> {
  if (found === null || !('manual_reviews' in found.related)) return found;
  const reviews: ReviewWithAdvice[] = await Promise.all(
    found.related.manual_reviews.map(async (review) => ({ ...review, enrichments: await findEnrichments(db, review.opened_event_id) })),
  );
  return { ...found, related: { ...found.related, manual_reviews: reviews } } as LedgerRecord;
}
