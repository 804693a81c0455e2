import { TRANSITION_PRELUDE } from './codes.js';
import { RedisScript } from './script.js';

/**
 * Puts a failed or dead event back to `received` with its attempts reset. The caller then makes
 * sure its job exists and is due. Until the caller confirms that, the event stays in the unqueued
 * index, so after a crash in between the sweeper finishes the replay.
 */
export const replayScript = new RedisScript(
  'replay',
  `${TRANSITION_PRELUDE}
--[[
  failed | dead -> received (an operator's replay; 'processing -> received' is a release and is
  rejected here)

  KEYS[1..7] as in the prelude
  KEYS[8] dead-letter index
  KEYS[9] unqueued index
  ARGV[1] event id   ARGV[3] retention in ms
  ARGV[2] now (ms)   ARGV[4] enqueue deadline (ms)

  Returns {OK, previous status, field, value, …} with the whole record after the change,
  {NOT_FOUND}, or {INVALID_TRANSITION, status}.
]]
local eventId = ARGV[1]
if redis.call('EXISTS', eventKey) == 0 then
  return {NOT_FOUND}
end
local status = redis.call('HGET', eventKey, 'status')
if status ~= 'failed' and status ~= 'dead' then
  return {INVALID_TRANSITION, status}
end

moveStatus(eventId, status, 'received')
redis.call('HSET', eventKey, 'attempts', '0', 'nextAttemptAt', ARGV[2], 'updatedAt', ARGV[2])
redis.call('HDEL', eventKey, 'leaseToken', 'leaseExpiresAt')
redis.call('ZREM', KEYS[8], eventId)
redis.call('ZADD', KEYS[9], ARGV[4], eventId)
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[3]))

local reply = {OK, status}
for _, value in ipairs(redis.call('HGETALL', eventKey)) do
  table.insert(reply, value)
end
return reply
`,
);
