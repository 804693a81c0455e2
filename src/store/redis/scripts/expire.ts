import { RedisScript } from './script.js';

/**
 * Removes the index entries of records that Redis expired. The record hashes expire on their own
 * (PEXPIRE), but a sorted set cannot expire single members, so this script cleans the indexes in
 * bounded batches. It runs from the worker's maintenance timer.
 */
export const expireIndexesScript = new RedisScript(
  'expire-indexes',
  `
--[[
  KEYS[1]    expiry index
  KEYS[2]    set of type index keys
  KEYS[3..n] every other sorted set that lists event ids: all events, each status, dead
             letters, unqueued

  ARGV[1] now (ms)
  ARGV[2] most ids to look at in this call
  ARGV[3] prefix of event hash keys (the event id follows it)
  ARGV[4] retention in ms, for a record that is still there without a TTL

  Returns the number of records whose index entries were removed.
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due == 0 then
  return 0
end
local typeIndexes = redis.call('SMEMBERS', KEYS[2])
local removed = 0
for _, eventId in ipairs(due) do
  local ttl = redis.call('PTTL', ARGV[3] .. eventId)
  if ttl > 0 then
    -- Still there, for example because the store's clock runs ahead of Redis: look again later.
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + ttl, eventId)
  elseif ttl == -1 then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[4]), eventId)
  else
    for index = 3, #KEYS do
      redis.call('ZREM', KEYS[index], eventId)
    end
    for _, typeIndex in ipairs(typeIndexes) do
      redis.call('ZREM', typeIndex, eventId)
    end
    redis.call('ZREM', KEYS[1], eventId)
    removed = removed + 1
  end
end
for _, typeIndex in ipairs(typeIndexes) do
  if redis.call('EXISTS', typeIndex) == 0 then
    redis.call('SREM', KEYS[2], typeIndex)
  end
end
return removed
`,
);
