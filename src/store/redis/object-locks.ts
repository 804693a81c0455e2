import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LockHandle, ObjectLocks } from '../ports.js';
import { guardRedis, type RedisGuardScope } from './connection.js';
import type { StoreKeys } from './keys.js';
import { extendLockScript, releaseLockScript } from './scripts/locks.js';

interface LockContext extends RedisGuardScope {
  readonly redis: Redis;
  readonly keys: StoreKeys;
}

/**
 * Object locks on Redis: `SET key token NX PX ttl` with a random token that only the holder
 * has. Release and extend are compare-and-delete and compare-and-pexpire scripts, so a holder
 * whose lock expired and was taken by someone else can neither free nor prolong the new lock.
 * Unlike the embedded store, an expired lock is gone at once (Redis deletes the key), so `extend`
 * after expiry resolves false even when nobody else took the lock.
 */
export class RedisObjectLocks implements ObjectLocks {
  private readonly context: LockContext;

  constructor(context: LockContext) {
    this.context = context;
  }

  acquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const { redis, keys } = this.context;
    return guardRedis(this.context, 'acquire an object lock', { lockKey: key }, async () => {
      assertTtl(ttlMs);
      const token = randomUUID();
      const result = await redis.set(keys.lock(key), token, 'PX', ttlMs, 'NX');
      return result === 'OK' ? new RedisLockHandle(this.context, key, token) : null;
    });
  }
}

class RedisLockHandle implements LockHandle {
  readonly key: string;
  private readonly context: LockContext;
  private readonly token: string;

  constructor(context: LockContext, key: string, token: string) {
    this.context = context;
    this.key = key;
    this.token = token;
  }

  extend(ttlMs: number): Promise<boolean> {
    const { redis, keys } = this.context;
    return guardRedis(this.context, 'extend an object lock', { lockKey: this.key }, async () => {
      assertTtl(ttlMs);
      const reply = await extendLockScript.run(redis, [keys.lock(this.key)], [this.token, ttlMs]);
      return reply === 1;
    });
  }

  release(): Promise<void> {
    const { redis, keys } = this.context;
    return guardRedis(this.context, 'release an object lock', { lockKey: this.key }, async () => {
      await releaseLockScript.run(redis, [keys.lock(this.key)], [this.token]);
    });
  }
}

function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new RangeError(`ttlMs should be a whole number of milliseconds, at least 1, got ${ttlMs}`);
  }
}
