import type { Redis } from 'ioredis';
import { describeError } from '../../errors.js';

/** The result of one start-up check. `severity` rates the risk when `ok` is false. */
export interface SafetyCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly severity: 'warning' | 'danger';
  readonly detail: string;
  readonly fix: string;
}

/**
 * Checks the Redis settings the pipeline's promises depend on: persistence (an acknowledged event
 * must survive a Redis restart) and the eviction policy (Redis must never delete queued jobs or
 * records to free memory). Reads CONFIG where allowed and INFO otherwise, since managed Redis
 * services often disable CONFIG.
 */
export async function checkRedisSafety(redis: Redis): Promise<SafetyCheck[]> {
  const [persistenceInfo, memoryInfo] = await Promise.all([redis.info('persistence'), redis.info('memory')]);
  return [await checkPersistence(redis, parseInfo(persistenceInfo)), checkEvictionPolicy(parseInfo(memoryInfo))];
}

/**
 * Checks that the job lease and the object lock outlive a handler that runs to its timeout. The
 * worker renews both while a handler runs, but if a renewal fails (a Redis blip, a blocked event
 * loop) a lease shorter than the handler timeout lets another worker start the same event while
 * the first still runs. The ledger's "event applied" marker still keeps the effect single.
 */
export function checkLeaseTimes(settings: { leaseMs: number; lockTtlMs: number; handlerTimeoutMs: number }): SafetyCheck[] {
  const { leaseMs, lockTtlMs, handlerTimeoutMs } = settings;
  return [
    {
      name: 'job-lease',
      ok: leaseMs > handlerTimeoutMs,
      severity: 'warning',
      detail: `JOB_LEASE_MS is ${leaseMs} and HANDLER_TIMEOUT_MS is ${handlerTimeoutMs}; a job whose lease renewal fails can be claimed again while its handler still runs.`,
      fix: 'Set JOB_LEASE_MS above HANDLER_TIMEOUT_MS (for example twice as long).',
    },
    {
      name: 'object-lock-ttl',
      ok: lockTtlMs > handlerTimeoutMs,
      severity: 'warning',
      detail: `LOCK_TTL_MS is ${lockTtlMs} and HANDLER_TIMEOUT_MS is ${handlerTimeoutMs}; an object lock whose renewal fails can expire while its handler still runs.`,
      fix: 'Set LOCK_TTL_MS above HANDLER_TIMEOUT_MS (for example twice as long).',
    },
  ];
}

async function checkPersistence(redis: Redis, info: ReadonlyMap<string, string>): Promise<SafetyCheck> {
  const name = 'persistence';
  const aofEnabled = info.get('aof_enabled') === '1';
  if (aofEnabled) {
    return { name, ok: true, severity: 'danger', detail: 'AOF persistence is on.', fix: 'Nothing to do.' };
  }

  let saveRule: string;
  try {
    saveRule = (await configValue(redis, 'save')).trim();
  } catch (error) {
    return {
      name,
      ok: false,
      severity: 'warning',
      detail: `AOF persistence is off and the RDB settings could not be read (${describeError(error)}).`,
      fix: 'Check in the Redis configuration that AOF (appendonly yes) or RDB snapshots (save) are on.',
    };
  }

  if (saveRule !== '') {
    return {
      name,
      ok: false,
      severity: 'warning',
      detail: `Only RDB snapshots are on (save "${saveRule}"); events acknowledged after the last snapshot are lost if Redis stops.`,
      fix: 'Turn on AOF: CONFIG SET appendonly yes, and set appendonly yes in redis.conf.',
    };
  }
  return {
    name,
    ok: false,
    severity: 'danger',
    detail: 'Neither AOF nor RDB persistence is on; every event and job in Redis, acknowledged to Stripe or not, is lost when Redis restarts.',
    fix: 'Turn on AOF: CONFIG SET appendonly yes, and set appendonly yes (appendfsync everysec) in redis.conf.',
  };
}

function checkEvictionPolicy(info: ReadonlyMap<string, string>): SafetyCheck {
  const policy = info.get('maxmemory_policy') ?? 'unknown';
  const ok = policy === 'noeviction';
  return {
    name: 'eviction-policy',
    ok,
    severity: 'danger',
    detail: ok
      ? 'maxmemory-policy is noeviction.'
      : `maxmemory-policy is ${policy}; when memory runs out Redis deletes keys, including queued jobs, locks and event records.`,
    fix: ok ? 'Nothing to do.' : 'CONFIG SET maxmemory-policy noeviction, and set it in redis.conf; size maxmemory for the retention window.',
  };
}

async function configValue(redis: Redis, parameter: string): Promise<string> {
  const reply = await redis.config('GET', parameter);
  const value = Array.isArray(reply) ? reply[1] : undefined;
  if (typeof value !== 'string') throw new Error(`CONFIG GET ${parameter} returned no value`);
  return value;
}

/** Parses the `field:value` lines of an INFO reply. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const separator = line.indexOf(':');
    if (separator > 0 && !line.startsWith('#')) fields.set(line.slice(0, separator), line.slice(separator + 1).trim());
  }
  return fields;
}
