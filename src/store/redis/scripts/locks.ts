import { RedisScript } from './script.js';

/** Deletes an object lock only if it still carries the caller's token. */
export const releaseLockScript = new RedisScript(
  'release-lock',
  `
--[[
  KEYS[1] lock key
  ARGV[1] holder's token
  Returns 1 when the lock was released, 0 when it expired or another holder has it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/** Sets a new TTL on an object lock only if it still carries the caller's token. */
export const extendLockScript = new RedisScript(
  'extend-lock',
  `
--[[
  KEYS[1] lock key
  ARGV[1] holder's token
  ARGV[2] new TTL in ms
  Returns 1 when extended, 0 when the lock is gone or another holder has it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
);
