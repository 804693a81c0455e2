/**
 * Stripe neither orders nor deduplicates deliveries, so each row remembers which event wrote it and
 * a later write wins only if its event is newer. "Newer" is a total order, which makes the result
 * independent of arrival order:
 * 1. a larger Stripe `created` (Unix seconds) wins;
 * 2. within one second, the status further along its lifecycle (a larger rank) wins;
 * 3. a remaining tie goes to the larger event id. That choice is arbitrary but fixed.
 */
export interface EventVersion {
  readonly created: number;
  readonly rank: number;
  readonly eventId: string;
}

export function compareVersions(left: EventVersion, right: EventVersion): number {
  if (left.created !== right.created) return left.created - right.created;
  if (left.rank !== right.rank) return left.rank - right.rank;
  if (left.eventId === right.eventId) return 0;
  return left.eventId < right.eventId ? -1 : 1;
}

/** True when `candidate` should replace what `current` wrote; anything replaces nothing. */
export function isNewer(candidate: EventVersion, current: EventVersion | null): boolean {
  return current === null || compareVersions(candidate, current) > 0;
}

/** Picks the newer of two events by `created`, then event id, ignoring ranks; for `last_event_*` columns. */
export function newestEvent(
  left: { readonly created: number; readonly eventId: string },
  right: { readonly created: number; readonly eventId: string },
): { created: number; eventId: string } {
  const leftWins = compareVersions({ ...left, rank: 0 }, { ...right, rank: 0 }) >= 0;
  const winner = leftWins ? left : right;
  return { created: winner.created, eventId: winner.eventId };
}

/** Rank of a status in a lifecycle list; unknown statuses rank lowest so a known one wins a tie. */
export function rankIn(lifecycle: readonly (readonly string[])[], status: string | null): number {
  if (status === null) return -1;
  const index = lifecycle.findIndex((stage) => stage.includes(status));
  return index;
}
