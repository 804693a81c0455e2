import { InvalidTransitionError, LeaseLostError, NotFoundError } from '../../../errors.js';
import { ALLOWED_TRANSITIONS, EVENT_STATUSES, type EventStatus } from '../../ports.js';

/**
 * Return codes shared by the transition scripts. Each script returns an array whose first element
 * is one of these; the rest depends on the script and is described in its header.
 */
export const SCRIPT_CODES = {
  ok: 1,
  /** Claim only: the event is already `processed` or `dead`, so its job is stale. */
  finished: 2,
  notFound: -1,
  /** The event's current status does not allow the transition; the current status follows. */
  invalidTransition: -2,
  /** Another claim took over the job; the lease token on the record differs. */
  leaseLost: -3,
} as const;

/**
 * Lua definitions that every transition script starts with. They rely on one key layout:
 * KEYS[1] the event hash, KEYS[2..6] the status indexes in EVENT_STATUSES order, KEYS[7] the
 * expiry index. The allowed transitions are generated from ALLOWED_TRANSITIONS, so the scripts and
 * the TypeScript state machine cannot drift apart.
 */
export const TRANSITION_PRELUDE = `
local OK = ${SCRIPT_CODES.ok}
local FINISHED = ${SCRIPT_CODES.finished}
local NOT_FOUND = ${SCRIPT_CODES.notFound}
local INVALID_TRANSITION = ${SCRIPT_CODES.invalidTransition}
local LEASE_LOST = ${SCRIPT_CODES.leaseLost}

local eventKey = KEYS[1]
local statusIndex = {
${EVENT_STATUSES.map((status, index) => `  ${status} = KEYS[${index + 2}],`).join('\n')}
}
local expiryKey = KEYS[7]

local allowed = {
${EVENT_STATUSES.map((from) => `  ${from} = { ${ALLOWED_TRANSITIONS[from].map((to) => `${to} = true`).join(', ')} },`).join('\n')}
}

local function canTransition(from, to)
  local targets = allowed[from]
  return targets ~= nil and targets[to] == true
end

-- Moves the event id between status indexes, keeping its ingest sequence as the score.
local function moveStatus(eventId, from, to)
  local sequence = redis.call('HGET', eventKey, 'sequence')
  redis.call('ZREM', statusIndex[from], eventId)
  redis.call('ZADD', statusIndex[to], sequence, eventId)
  redis.call('HSET', eventKey, 'status', to)
end

-- Checks, in this order, that the record exists, that the caller still holds the lease, and that
-- the attempt is still running and may move to 'to'. An attempt ends only from 'processing': a
-- move such as 'dead -> received' is allowed for a replay but not for a worker's release.
-- Returns the error reply, or nil and the current status.
local function checkHolder(token, to)
  if redis.call('EXISTS', eventKey) == 0 then
    return {NOT_FOUND}
  end
  local fields = redis.call('HMGET', eventKey, 'status', 'leaseToken')
  if fields[2] ~= token then
    return {LEASE_LOST}
  end
  if fields[1] ~= 'processing' or not canTransition(fields[1], to) then
    return {INVALID_TRANSITION, fields[1]}
  end
  return nil, fields[1]
end

-- Restarts the retention window: a record is kept for the retention period after its last change.
local function keepFor(eventId, now, retentionMs)
  redis.call('PEXPIRE', eventKey, retentionMs)
  redis.call('ZADD', expiryKey, now + retentionMs, eventId)
end
`;

export interface CodeContext {
  readonly eventId: string;
  /** Status the operation tried to move the event to. */
  readonly to: EventStatus;
}

/**
 * Maps a failing return code of a transition script to the pipeline error the ports promise.
 * `detail` is the element after the code, which carries the current status for
 * INVALID_TRANSITION. Returns null for success codes.
 */
export function errorForCode(code: number, detail: unknown, context: CodeContext): Error | null {
  switch (code) {
    case SCRIPT_CODES.ok:
    case SCRIPT_CODES.finished:
      return null;
    case SCRIPT_CODES.notFound:
      return new NotFoundError('Event', context.eventId);
    case SCRIPT_CODES.invalidTransition:
      return new InvalidTransitionError(context.eventId, typeof detail === 'string' ? detail : 'unknown', context.to);
    case SCRIPT_CODES.leaseLost:
      return new LeaseLostError(context.eventId);
    default:
      return new TypeError(`A Redis store script returned the unknown code ${code} for event ${context.eventId}.`);
  }
}

/** Keys in the layout TRANSITION_PRELUDE expects. */
export function transitionKeys(keys: { event: string; statuses: readonly string[]; expiry: string }): string[] {
  return [keys.event, ...keys.statuses, keys.expiry];
}
