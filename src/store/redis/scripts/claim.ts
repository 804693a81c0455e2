import { SCRIPT_CODES, TRANSITION_PRELUDE } from './codes.js';
import { RedisScript } from './script.js';

/**
 * Moves the event of a job that BullMQ just handed out to `processing` and counts the attempt.
 * BullMQ picks the job and sets its lock. This script brings the record in line and stores the
 * lease token, so that later calls from a worker whose lease was taken over are rejected.
 */
export const claimScript = new RedisScript(
  'claim',
  `${TRANSITION_PRELUDE}
--[[
  received | failed | processing -> processing

  KEYS[1..7] as in the prelude
  ARGV[1] event id
  ARGV[2] now (ms)
  ARGV[3] lease token (the BullMQ lock token)
  ARGV[4] lease expiry (ms)
  ARGV[5] retention in ms

  Returns:
    {OK, previous status, type, created, livemode, account, payload, attempts}
    {FINISHED, status} when the event is already processed or dead (a stale job)
    {NOT_FOUND} when the record expired
    {INVALID_TRANSITION, status}
]]
local eventId = ARGV[1]
if redis.call('EXISTS', eventKey) == 0 then
  return {NOT_FOUND}
end
local status = redis.call('HGET', eventKey, 'status')
if status == 'processed' or status == 'dead' then
  return {FINISHED, status}
end
if not canTransition(status, 'processing') then
  return {INVALID_TRANSITION, status}
end

moveStatus(eventId, status, 'processing')
redis.call('HINCRBY', eventKey, 'attempts', 1)
redis.call('HSET', eventKey, 'leaseToken', ARGV[3], 'leaseExpiresAt', ARGV[4], 'updatedAt', ARGV[2])
redis.call('HDEL', eventKey, 'nextAttemptAt')
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[5]))

local fields = redis.call('HMGET', eventKey, 'type', 'created', 'livemode', 'account', 'payload', 'attempts')
return {OK, status, fields[1], fields[2], fields[3], fields[4], fields[5], fields[6]}
`,
);

/** Records a longer lease on the event, if the caller still holds it. */
export const extendLeaseScript = new RedisScript(
  'extend-lease',
  `
--[[
  KEYS[1] event hash
  ARGV[1] lease token
  ARGV[2] new lease expiry (ms)

  Returns {OK} when extended, {NOT_FOUND} when the record is gone, {LEASE_LOST} when another
  claim holds the lease, {INVALID_TRANSITION, status} when the event is no longer processing.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {${SCRIPT_CODES.notFound}}
end
local fields = redis.call('HMGET', KEYS[1], 'status', 'leaseToken')
if fields[2] ~= ARGV[1] then
  return {${SCRIPT_CODES.leaseLost}}
end
if fields[1] ~= 'processing' then
  return {${SCRIPT_CODES.invalidTransition}, fields[1]}
end
redis.call('HSET', KEYS[1], 'leaseExpiresAt', ARGV[2])
return {${SCRIPT_CODES.ok}}
`,
);
