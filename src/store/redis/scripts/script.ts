import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptArgument = string | number;

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when the server does not have it
 * cached (after a restart or SCRIPT FLUSH). EVAL caches it again for the next call.
 */
export class RedisScript {
  readonly name: string;
  readonly source: string;
  private readonly sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Reads a script reply that must be an array. */
export function replyArray(script: RedisScript, reply: unknown): unknown[] {
  if (!Array.isArray(reply)) {
    throw new TypeError(`The Redis script "${script.name}" returned ${typeof reply} instead of an array.`);
  }
  return reply as unknown[];
}

/** Reads the numeric return code that every store script puts first in its reply. */
export function replyCode(script: RedisScript, reply: readonly unknown[]): number {
  const code = reply[0];
  if (typeof code !== 'number') {
    throw new TypeError(`The Redis script "${script.name}" returned no numeric code.`);
  }
  return code;
}

/** Turns a flat HGETALL-style list [field, value, field, value, …] into an object. */
export function pairsToObject(values: readonly unknown[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let index = 0; index + 1 < values.length; index += 2) {
    const field = values[index];
    const value = values[index + 1];
    if (typeof field === 'string' && typeof value === 'string') result[field] = value;
  }
  return result;
}
