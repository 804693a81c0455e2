import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { resolveWebhookSecrets } from '../config/dev-secret.js';
import { ConfigError } from '../errors.js';
import { redisFailureReason } from '../store/redis/failures.js';
import { checkLeaseTimes, checkRedisSafety, type SafetyCheck } from '../store/redis/index.js';

/**
 * Self-checks run at start-up and by `doctor`. Each one targets a setting that teams running a
 * queue on Redis get wrong and only notice after an incident: no persistence, an eviction policy,
 * leases shorter than the work they protect, an unmigrated database, a development secret in
 * production.
 */
export interface StartupCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Severity of a failure: a failed `danger` check stops a production process (see `enforceStartupChecks`). */
  readonly severity: 'warning' | 'danger';
  readonly detail: string;
  readonly fix: string;
  /** Setting that lets a production process start although this check fails; null when none does. */
  readonly overrideSetting: 'ALLOW_UNSAFE_REDIS' | null;
}

const REDIS_CHECK_NAMES: Readonly<Record<string, string>> = {
  persistence: 'redis-persistence',
  'eviction-policy': 'redis-eviction-policy',
};

function fromSafetyCheck(check: SafetyCheck, overrideSetting: StartupCheck['overrideSetting']): StartupCheck {
  return {
    name: REDIS_CHECK_NAMES[check.name] ?? check.name,
    ok: check.ok,
    severity: check.severity,
    detail: check.detail,
    fix: check.fix,
    overrideSetting,
  };
}

/** Redis persistence and eviction policy; a Redis that cannot be read fails one danger check. */
export async function redisChecks(redis: Redis): Promise<StartupCheck[]> {
  try {
    const checks = await checkRedisSafety(redis);
    return checks.map((check) => fromSafetyCheck(check, 'ALLOW_UNSAFE_REDIS'));
  } catch (error) {
    return [
      {
        name: 'redis-connection',
        ok: false,
        severity: 'danger',
        detail: `Redis returned no reply to INFO: ${redisFailureReason(error)}.`,
        fix: 'Start Redis or correct REDIS_URL, then run `doctor` again.',
        overrideSetting: null,
      },
    ];
  }
}

/** Job lease and object lock against the handler timeout. */
export function leaseChecks(worker: Config['worker']): StartupCheck[] {
  const passed: Readonly<Record<string, string>> = {
    'job-lease': `JOB_LEASE_MS (${worker.leaseMs}) is longer than HANDLER_TIMEOUT_MS (${worker.handlerTimeoutMs}).`,
    'object-lock-ttl': `LOCK_TTL_MS (${worker.lockTtlMs}) is longer than HANDLER_TIMEOUT_MS (${worker.handlerTimeoutMs}).`,
  };
  return checkLeaseTimes(worker).map((check) => {
    const converted = fromSafetyCheck(check, null);
    return check.ok ? { ...converted, detail: passed[check.name] ?? check.detail } : converted;
  });
}

/** Ledger migrations not yet applied to the configured database. */
export function migrationCheck(pending: readonly string[]): StartupCheck {
  const ok = pending.length === 0;
  return {
    name: 'ledger-migrations',
    ok,
    severity: 'danger',
    detail: ok
      ? 'Every ledger migration is applied.'
      : `${pending.length} ledger migration(s) are not applied: ${pending.join(', ')}; the workers would write to tables that do not exist yet.`,
    fix: ok ? 'Nothing to do.' : 'Run `stripe-pipeline migrate` (npm run cli -- migrate) against DATABASE_URL before starting the service.',
    overrideSetting: null,
  };
}

/**
 * Reports a failed connection to a dependency as a failed danger check. `detail` names the
 * service, its address and the reason, such as "Connecting to Redis at 127.0.0.1:6379 failed:
 * connection refused."
 */
export function connectionCheck(name: string, detail: string, fix: string): StartupCheck {
  return { name, ok: false, severity: 'danger', detail, fix, overrideSetting: null };
}

/**
 * Checks whether a production process verifies webhooks with the development endpoint secret
 * kept in DATA_DIR. That secret sits in a file on disk and is printed at start-up, so anyone who
 * saw it could forge events.
 */
export function webhookSecretCheck(config: Config): StartupCheck {
  const name = 'webhook-secret';
  const secrets = config.stripe.webhookSecrets;
  const devSecret = readDevSecret(config.storage.dataDir);
  const usesDevSecret = devSecret !== null && secrets.includes(devSecret);

  if (config.env === 'production' && usesDevSecret) {
    return {
      name,
      ok: false,
      severity: 'danger',
      detail: 'STRIPE_WEBHOOK_SECRET contains the development endpoint secret from DATA_DIR, which was printed at start-up and is stored on disk.',
      fix: 'Set STRIPE_WEBHOOK_SECRET to the endpoint secret from the Stripe Dashboard and delete the dev-webhook-secret file in DATA_DIR.',
      overrideSetting: null,
    };
  }
  let detail = `${secrets.length} endpoint secret(s) configured.`;
  if (secrets.length === 0 && config.env === 'production') {
    detail = 'STRIPE_WEBHOOK_SECRET is not set: serve and start refuse to start without it in production, and a worker needs none.';
  } else if (secrets.length === 0) {
    detail = 'STRIPE_WEBHOOK_SECRET is not set, so serve and start use the development secret in DATA_DIR; a worker needs none.';
  } else if (usesDevSecret) {
    detail = 'The development endpoint secret is in use; that is fine outside production.';
  }
  return { name, ok: true, severity: 'danger', detail, fix: 'Nothing to do.', overrideSetting: null };
}

function readDevSecret(dataDir: string): string | null {
  try {
    return resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: false }).secrets[0] ?? null;
  } catch (error) {
    // No development secret exists (or the file is unreadable), so none can be in use.
    if (error instanceof ConfigError) return null;
    throw error;
  }
}

/** Runs every check that applies to what the process has open. */
export async function runStartupChecks(options: {
  config: Config;
  redis?: Redis | undefined;
  pendingMigrations?: readonly string[] | undefined;
}): Promise<StartupCheck[]> {
  const checks: StartupCheck[] = [];
  if (options.redis !== undefined) checks.push(...(await redisChecks(options.redis)));
  checks.push(...leaseChecks(options.config.worker));
  if (options.pendingMigrations !== undefined) checks.push(migrationCheck(options.pendingMigrations));
  checks.push(webhookSecretCheck(options.config));
  return checks;
}
