import { RedisScript } from './script.js';

/** Return codes of the ingest script. */
export const INGEST_CODES = {
  /** The record was created; the caller enqueues the job. */
  created: 1,
  /** The record exists and its job was confirmed in the queue, or the event already finished. */
  queued: 2,
  /** The record exists and another call is enqueueing it right now (its deadline is ahead). */
  enqueueInProgress: 3,
  /** The record exists but an earlier enqueue never finished; the caller took it over. */
  enqueueTakenOver: 4,
} as const;

/**
 * Records an event if its id is new. The caller adds the job with BullMQ afterwards, so the record
 * also enters the "unqueued" index with a deadline, and the caller removes it once the job exists.
 * If the process dies in between, a later delivery or the sweeper finds the entry past its
 * deadline and enqueues the event.
 */
export const ingestScript = new RedisScript(
  'ingest',
  `
--[[
  Records an event once per event id.

  KEYS[1] event hash            KEYS[5] set of type index keys
  KEYS[2] index of all events   KEYS[6] expiry index
  KEYS[3] 'received' index      KEYS[7] unqueued index
  KEYS[4] index of its type     KEYS[8] sequence counter

  ARGV[1] event id       ARGV[4] livemode 1/0            ARGV[7] now (ms)
  ARGV[2] type           ARGV[5] account, '' when none   ARGV[8] retention in ms
  ARGV[3] created (s)    ARGV[6] raw payload             ARGV[9] enqueue deadline (ms)

  Returns {code, status}:
    1 created: new record in 'received', listed as unqueued until ARGV[9]
    2 queued: the record exists and its job was confirmed, or the event already finished
      (processed or dead), in which case a leftover unqueued entry is removed
    3 enqueue in progress: the record exists and another call has until its deadline to enqueue
    4 enqueue taken over: the record exists, the earlier enqueue missed its deadline, and the
      unqueued entry now carries ARGV[9] for this caller
]]
local eventKey = KEYS[1]
local eventId = ARGV[1]
local now = tonumber(ARGV[7])

if redis.call('EXISTS', eventKey) == 1 then
  local status = redis.call('HGET', eventKey, 'status')
  local deadline = redis.call('ZSCORE', KEYS[7], eventId)
  if status == 'processed' or status == 'dead' then
    -- A finished event needs no job, whatever an earlier ingest left unconfirmed.
    redis.call('ZREM', KEYS[7], eventId)
    return {${INGEST_CODES.queued}, status}
  end
  if not deadline then
    return {${INGEST_CODES.queued}, status}
  end
  if tonumber(deadline) > now then
    return {${INGEST_CODES.enqueueInProgress}, status}
  end
  redis.call('ZADD', KEYS[7], ARGV[9], eventId)
  return {${INGEST_CODES.enqueueTakenOver}, status}
end

local sequence = redis.call('INCR', KEYS[8])
redis.call('HSET', eventKey,
  'id', eventId, 'type', ARGV[2], 'created', ARGV[3], 'livemode', ARGV[4],
  'payload', ARGV[6], 'status', 'received', 'attempts', '0',
  'receivedAt', ARGV[7], 'updatedAt', ARGV[7], 'nextAttemptAt', ARGV[7], 'sequence', sequence)
if ARGV[5] ~= '' then
  redis.call('HSET', eventKey, 'account', ARGV[5])
end
redis.call('PEXPIRE', eventKey, ARGV[8])

redis.call('ZADD', KEYS[2], sequence, eventId)
redis.call('ZADD', KEYS[3], sequence, eventId)
redis.call('ZADD', KEYS[4], sequence, eventId)
-- The set holds index keys, so expiry can remove an id from every type index without its record.
redis.call('SADD', KEYS[5], KEYS[4])
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[8]), eventId)
redis.call('ZADD', KEYS[7], ARGV[9], eventId)
return {${INGEST_CODES.created}, 'received'}
`,
);

/**
 * Confirms that an event's job exists by removing its unqueued entry, but only if the entry still
 * carries this caller's deadline: a newer entry (from a replay) belongs to someone else.
 */
export const confirmQueuedScript = new RedisScript(
  'confirm-queued',
  `
--[[
  KEYS[1] unqueued index
  ARGV[1] event id
  ARGV[2] deadline this caller wrote

  Returns 1 when the entry was removed, 0 when it was absent or carried another deadline.
]]
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if deadline and tonumber(deadline) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
`,
);

/**
 * Takes over the enqueue of an event whose unqueued entry is past its deadline, for the sweeper.
 */
export const takeUnqueuedScript = new RedisScript(
  'take-unqueued',
  `
--[[
  KEYS[1] unqueued index
  KEYS[2] event hash
  ARGV[1] event id
  ARGV[2] now (ms)
  ARGV[3] new deadline (ms)

  Returns {code, type, status}:
    1 taken: the entry now carries ARGV[3]; the caller enqueues the event
    0 skipped: the entry is gone or another caller's deadline is still ahead
   -1 the record expired; the entry was removed
    2 the event already finished (processed or dead); the entry was removed
]]
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not deadline or tonumber(deadline) > tonumber(ARGV[2]) then
  return {0}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {-1}
end
local fields = redis.call('HMGET', KEYS[2], 'type', 'status')
if fields[2] == 'processed' or fields[2] == 'dead' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {2, fields[1], fields[2]}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return {1, fields[1], fields[2]}
`,
);
