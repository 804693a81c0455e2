import { TRANSITION_PRELUDE } from './codes.js';
import { RedisScript } from './script.js';

/*
 * The scripts that end an attempt. Each checks, in this order, that the record exists
 * (NOT_FOUND), that the caller's lease token is the one on the record (LEASE_LOST), and that the
 * event is processing and may make the transition (INVALID_TRANSITION). Completing a job twice is
 * therefore an invalid transition, while completing after another worker took over is a lost
 * lease. The lease token stays on the record after the attempt for that distinction. Each script
 * returns {OK}, {NOT_FOUND}, {LEASE_LOST} or {INVALID_TRANSITION, current status}.
 */

export const completeScript = new RedisScript(
  'complete',
  `${TRANSITION_PRELUDE}
--[[
  processing -> processed

  KEYS[1..7] as in the prelude
  ARGV[1] event id   ARGV[3] lease token     ARGV[5] retention in ms
  ARGV[2] now (ms)   ARGV[4] decision JSON
]]
local eventId = ARGV[1]
local failure, status = checkHolder(ARGV[3], 'processed')
if failure then
  return failure
end
moveStatus(eventId, status, 'processed')
redis.call('HSET', eventKey, 'decision', ARGV[4], 'processedAt', ARGV[2], 'updatedAt', ARGV[2])
-- An earlier attempt's error no longer describes a processed event; 'attempts' still shows the retries.
redis.call('HDEL', eventKey, 'nextAttemptAt', 'leaseExpiresAt', 'lastError')
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[5]))
return {OK}
`,
);

export const retryScript = new RedisScript(
  'retry',
  `${TRANSITION_PRELUDE}
--[[
  processing -> failed, with the next attempt due at ARGV[6]

  KEYS[1..7] as in the prelude
  ARGV[1] event id   ARGV[3] lease token    ARGV[5] decision JSON, '' keeps the stored one
  ARGV[2] now (ms)   ARGV[4] error message  ARGV[6] next attempt (ms)
  ARGV[7] retention in ms
]]
local eventId = ARGV[1]
local failure, status = checkHolder(ARGV[3], 'failed')
if failure then
  return failure
end
moveStatus(eventId, status, 'failed')
redis.call('HSET', eventKey, 'lastError', ARGV[4], 'nextAttemptAt', ARGV[6], 'updatedAt', ARGV[2])
if ARGV[5] ~= '' then
  redis.call('HSET', eventKey, 'decision', ARGV[5])
end
redis.call('HDEL', eventKey, 'leaseExpiresAt')
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[7]))
return {OK}
`,
);

export const deadLetterScript = new RedisScript(
  'dead-letter',
  `${TRANSITION_PRELUDE}
--[[
  processing -> dead, and onto the dead-letter list

  KEYS[1..7] as in the prelude
  KEYS[8] dead-letter index
  KEYS[9] sequence counter
  ARGV[1] event id   ARGV[3] lease token    ARGV[5] decision JSON, '' keeps the stored one
  ARGV[2] now (ms)   ARGV[4] error message  ARGV[6] retention in ms
]]
local eventId = ARGV[1]
local failure, status = checkHolder(ARGV[3], 'dead')
if failure then
  return failure
end
moveStatus(eventId, status, 'dead')
redis.call('HSET', eventKey, 'lastError', ARGV[4], 'updatedAt', ARGV[2])
if ARGV[5] ~= '' then
  redis.call('HSET', eventKey, 'decision', ARGV[5])
end
redis.call('HDEL', eventKey, 'nextAttemptAt', 'leaseExpiresAt')
redis.call('ZADD', KEYS[8], redis.call('INCR', KEYS[9]), eventId)
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[6]))
return {OK}
`,
);

export const releaseScript = new RedisScript(
  'release',
  `${TRANSITION_PRELUDE}
--[[
  processing -> received, giving back the attempt the claim counted

  KEYS[1..7] as in the prelude
  ARGV[1] event id   ARGV[3] lease token          ARGV[5] retention in ms
  ARGV[2] now (ms)   ARGV[4] next attempt (ms)
]]
local eventId = ARGV[1]
local failure, status = checkHolder(ARGV[3], 'received')
if failure then
  return failure
end
moveStatus(eventId, status, 'received')
redis.call('HINCRBY', eventKey, 'attempts', -1)
redis.call('HSET', eventKey, 'nextAttemptAt', ARGV[4], 'updatedAt', ARGV[2])
redis.call('HDEL', eventKey, 'leaseExpiresAt')
keepFor(eventId, tonumber(ARGV[2]), tonumber(ARGV[5]))
return {OK}
`,
);
