import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Every environment variable the service reads, validated once at start-up. Defaults live here
 * and nowhere else; `.env.example` mirrors this table for people.
 */
const integer = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} should be a whole number` })
    .int({ error: `${name} should be a whole number` })
    .min(min, { error: `${name} should be at least ${min}` })
    .max(max, { error: `${name} should be at most ${max}` });

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const secretList = optionalString.transform((value, context) => {
  if (value === undefined) return [];
  const secrets = value
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '');
  for (const [index, secret] of secrets.entries()) {
    if (!secret.startsWith('whsec_')) {
      context.addIssue({
        code: 'custom',
        message: `STRIPE_WEBHOOK_SECRET entry ${index + 1} should start with "whsec_" (copy the endpoint secret from the Stripe Dashboard or \`stripe listen\`)`,
      });
    }
  }
  return secrets;
});

const url = (name: string, protocols: string[]) =>
  optionalString.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `${name} should be a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}` },
  );

const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { error: 'NODE_ENV should be one of development, production, test' })
    .default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: integer('PORT', 0, 65535).default(3000),
  // Empty means unset, like the other optional settings, rather than port 0.
  METRICS_PORT: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), integer('METRICS_PORT', 0, 65535).optional()),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL should be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),

  STRIPE_WEBHOOK_SECRET: secretList,
  STRIPE_SIGNATURE_TOLERANCE_SECONDS: integer('STRIPE_SIGNATURE_TOLERANCE_SECONDS', 1, 86_400).default(300),
  STRIPE_MODE: z.enum(['test', 'live'], { error: 'STRIPE_MODE should be "test" or "live"' }).default('test'),
  BODY_LIMIT_BYTES: integer('BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024).default(1024 * 1024),

  DATA_DIR: z.string().default('./data'),
  SQLITE_PATH: optionalString,
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']),
  REDIS_KEY_PREFIX: z.string().default('swp'),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']),
  EVENT_RETENTION_DAYS: integer('EVENT_RETENTION_DAYS', 4, 3650).default(7),
  ALLOW_UNSAFE_REDIS: z
    .enum(['true', 'false'], { error: 'ALLOW_UNSAFE_REDIS should be "true" or "false"' })
    .default('false')
    .transform((value) => value === 'true'),

  MAX_RETRIES: integer('MAX_RETRIES', 0, 100).default(5),
  RETRY_BACKOFF_BASE_MS: integer('RETRY_BACKOFF_BASE_MS', 10, 3_600_000).default(2000),
  RETRY_BACKOFF_MAX_MS: integer('RETRY_BACKOFF_MAX_MS', 10, 86_400_000).default(3_600_000),
  JOB_LEASE_MS: integer('JOB_LEASE_MS', 1000, 3_600_000).default(30_000),
  HANDLER_TIMEOUT_MS: integer('HANDLER_TIMEOUT_MS', 100, 3_600_000).default(10_000),
  LOCK_TTL_MS: integer('LOCK_TTL_MS', 1000, 3_600_000).default(30_000),
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 1, 256).default(4),
  WORKER_POLL_INTERVAL_MS: integer('WORKER_POLL_INTERVAL_MS', 5, 60_000).default(100),
  SHUTDOWN_GRACE_MS: integer('SHUTDOWN_GRACE_MS', 0, 600_000).default(10_000),

  ADMIN_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 16, {
    error: 'ADMIN_TOKEN should be at least 16 characters (generate one with `openssl rand -hex 32`)',
  }),
  MANUAL_REVIEW_AMOUNT: integer('MANUAL_REVIEW_AMOUNT', 0, Number.MAX_SAFE_INTEGER).default(100_000),

  OUTBOX_WEBHOOK_URL: url('OUTBOX_WEBHOOK_URL', ['http:', 'https:']),
  OUTBOX_SIGNING_SECRET: optionalString.refine((value) => value === undefined || value.length >= 32, {
    error: 'OUTBOX_SIGNING_SECRET should be at least 32 characters (generate one with `openssl rand -hex 32`)',
  }),
  OUTBOX_MAX_ATTEMPTS: integer('OUTBOX_MAX_ATTEMPTS', 1, 100).default(10),
  OUTBOX_TIMEOUT_MS: integer('OUTBOX_TIMEOUT_MS', 100, 600_000).default(5000),
  OUTBOX_POLL_INTERVAL_MS: integer('OUTBOX_POLL_INTERVAL_MS', 10, 60_000).default(500),

  AI_PROVIDER: z
    .enum(['none', 'gemini', 'manus', 'openai'], { error: 'AI_PROVIDER should be one of none, gemini, manus, openai' })
    .default('none'),
  AI_TIMEOUT_MS: integer('AI_TIMEOUT_MS', 100, 600_000).default(10_000),
  AI_BREAKER_FAILURES: integer('AI_BREAKER_FAILURES', 1, 100).default(3),
  AI_BREAKER_RESET_MS: integer('AI_BREAKER_RESET_MS', 100, 3_600_000).default(60_000),
  GEMINI_API_KEY: optionalString,
  GEMINI_MODEL: optionalString,
  GEMINI_BASE_URL: url('GEMINI_BASE_URL', ['http:', 'https:']),
  MANUS_API_KEY: optionalString,
  MANUS_BASE_URL: url('MANUS_BASE_URL', ['http:', 'https:']).transform((value) => value ?? 'https://api.manus.ai'),
  MANUS_AGENT_PROFILE: z.string().default('manus-1.6-lite'),
  MANUS_TASK_TIMEOUT_MS: integer('MANUS_TASK_TIMEOUT_MS', 1000, 86_400_000).default(600_000),
  MANUS_POLL_INTERVAL_MS: integer('MANUS_POLL_INTERVAL_MS', 100, 600_000).default(5000),
  OPENAI_API_KEY: optionalString,
  OPENAI_MODEL: optionalString,
  OPENAI_BASE_URL: url('OPENAI_BASE_URL', ['http:', 'https:']),
});

export type RawEnv = z.infer<typeof envSchema>;

export interface Config {
  readonly env: RawEnv['NODE_ENV'];
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** Port on which a `worker` process serves /metrics, /healthz and /readyz; undefined means none. */
    readonly metricsPort: number | undefined;
  };
  readonly logLevel: RawEnv['LOG_LEVEL'];
  readonly stripe: {
    /** Endpoint secrets (`whsec_…`); a request verifies if any of them matches. Empty until resolved at start-up. */
    readonly webhookSecrets: readonly string[];
    readonly toleranceSeconds: number;
    readonly livemode: boolean;
  };
  readonly storage: {
    readonly dataDir: string;
    readonly sqlitePath: string;
    readonly redisUrl: string | undefined;
    readonly redisKeyPrefix: string;
    readonly databaseUrl: string | undefined;
    readonly eventRetentionDays: number;
    /**
     * Lets a production process start although Redis has no persistence or may evict keys; the
     * start-up checks then only warn.
     */
    readonly allowUnsafeRedis: boolean;
  };
  readonly worker: {
    /** Retries after the first attempt; the event is dead-lettered when attempt `maxRetries + 1` fails. */
    readonly maxRetries: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly leaseMs: number;
    readonly handlerTimeoutMs: number;
    readonly lockTtlMs: number;
    readonly concurrency: number;
    readonly pollIntervalMs: number;
    readonly shutdownGraceMs: number;
  };
  readonly admin: { readonly token: string | undefined };
  readonly decisions: {
    /** Payments above this amount, in the currency's smallest unit, go to manual review. */
    readonly manualReviewAmount: number;
  };
  readonly outbox: {
    /** Receiver of the outbox messages; unset means nothing is sent and messages stay pending. */
    readonly webhookUrl: string | undefined;
    /** Key of the `X-Pipeline-Signature` HMAC; set whenever `webhookUrl` is. */
    readonly signingSecret: string | undefined;
    /** Attempts per message, including the first, before it is marked failed. */
    readonly maxAttempts: number;
    readonly timeoutMs: number;
    readonly pollIntervalMs: number;
  };
  readonly ai: {
    readonly provider: RawEnv['AI_PROVIDER'];
    readonly timeoutMs: number;
    readonly breakerFailures: number;
    readonly breakerResetMs: number;
    readonly gemini: { readonly apiKey: string | undefined; readonly model: string | undefined; readonly baseUrl: string | undefined };
    readonly manus: {
      readonly apiKey: string | undefined;
      readonly baseUrl: string;
      readonly agentProfile: string;
      readonly taskTimeoutMs: number;
      readonly pollIntervalMs: number;
    };
    readonly openai: { readonly apiKey: string | undefined; readonly model: string | undefined; readonly baseUrl: string | undefined };
  };
}

/**
 * Validates the environment and returns a frozen configuration.
 * Throws ConfigError listing every problem at once, so one restart fixes them all.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = name !== '' ? env[name] : undefined;
      const shown = value === undefined || isSecretName(name) ? '' : `, got "${value}"`;
      return `${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const raw = parsed.data;

  const problems: string[] = [];
  if (raw.RETRY_BACKOFF_MAX_MS < raw.RETRY_BACKOFF_BASE_MS) {
    problems.push(
      `RETRY_BACKOFF_MAX_MS should be at least RETRY_BACKOFF_BASE_MS (${raw.RETRY_BACKOFF_BASE_MS}), got ${raw.RETRY_BACKOFF_MAX_MS}`,
    );
  }
  if ((raw.REDIS_URL === undefined) !== (raw.DATABASE_URL === undefined)) {
    problems.push(
      raw.REDIS_URL === undefined
        ? 'DATABASE_URL is set but REDIS_URL is not: the distributed mode needs both (unset DATABASE_URL to run embedded on SQLite)'
        : 'REDIS_URL is set but DATABASE_URL is not: the distributed mode needs both (unset REDIS_URL to run embedded on SQLite)',
    );
  }
  if (raw.OUTBOX_WEBHOOK_URL !== undefined && raw.OUTBOX_SIGNING_SECRET === undefined) {
    problems.push(
      'OUTBOX_WEBHOOK_URL is set but OUTBOX_SIGNING_SECRET is missing: outbox requests must be signed (generate a secret with `openssl rand -hex 32`)',
    );
  }
  problems.push(...aiProblems(raw));
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(raw.DATA_DIR);
  return deepFreeze({
    env: raw.NODE_ENV,
    http: { host: raw.HOST, port: raw.PORT, bodyLimitBytes: raw.BODY_LIMIT_BYTES, metricsPort: raw.METRICS_PORT },
    logLevel: raw.LOG_LEVEL,
    stripe: {
      webhookSecrets: raw.STRIPE_WEBHOOK_SECRET,
      toleranceSeconds: raw.STRIPE_SIGNATURE_TOLERANCE_SECONDS,
      livemode: raw.STRIPE_MODE === 'live',
    },
    storage: {
      dataDir,
      sqlitePath: raw.SQLITE_PATH !== undefined ? path.resolve(raw.SQLITE_PATH) : path.join(dataDir, 'pipeline.db'),
      redisUrl: raw.REDIS_URL,
      redisKeyPrefix: raw.REDIS_KEY_PREFIX,
      databaseUrl: raw.DATABASE_URL,
      eventRetentionDays: raw.EVENT_RETENTION_DAYS,
      allowUnsafeRedis: raw.ALLOW_UNSAFE_REDIS,
    },
    worker: {
      maxRetries: raw.MAX_RETRIES,
      backoffBaseMs: raw.RETRY_BACKOFF_BASE_MS,
      backoffMaxMs: raw.RETRY_BACKOFF_MAX_MS,
      leaseMs: raw.JOB_LEASE_MS,
      handlerTimeoutMs: raw.HANDLER_TIMEOUT_MS,
      lockTtlMs: raw.LOCK_TTL_MS,
      concurrency: raw.WORKER_CONCURRENCY,
      pollIntervalMs: raw.WORKER_POLL_INTERVAL_MS,
      shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    },
    admin: { token: raw.ADMIN_TOKEN },
    decisions: { manualReviewAmount: raw.MANUAL_REVIEW_AMOUNT },
    outbox: {
      webhookUrl: raw.OUTBOX_WEBHOOK_URL,
      signingSecret: raw.OUTBOX_SIGNING_SECRET,
      maxAttempts: raw.OUTBOX_MAX_ATTEMPTS,
      timeoutMs: raw.OUTBOX_TIMEOUT_MS,
      pollIntervalMs: raw.OUTBOX_POLL_INTERVAL_MS,
    },
    ai: {
      provider: raw.AI_PROVIDER,
      timeoutMs: raw.AI_TIMEOUT_MS,
      breakerFailures: raw.AI_BREAKER_FAILURES,
      breakerResetMs: raw.AI_BREAKER_RESET_MS,
      gemini: { apiKey: raw.GEMINI_API_KEY, model: raw.GEMINI_MODEL, baseUrl: raw.GEMINI_BASE_URL },
      manus: {
        apiKey: raw.MANUS_API_KEY,
        baseUrl: raw.MANUS_BASE_URL,
        agentProfile: raw.MANUS_AGENT_PROFILE,
        taskTimeoutMs: raw.MANUS_TASK_TIMEOUT_MS,
        pollIntervalMs: raw.MANUS_POLL_INTERVAL_MS,
      },
      openai: { apiKey: raw.OPENAI_API_KEY, model: raw.OPENAI_MODEL, baseUrl: raw.OPENAI_BASE_URL },
    },
  });
}

/** Returns a copy of the configuration with other endpoint secrets, for the development-secret fallback. */
export function withWebhookSecrets(config: Config, webhookSecrets: readonly string[]): Config {
  return deepFreeze({ ...config, stripe: { ...config.stripe, webhookSecrets: [...webhookSecrets] } });
}

function aiProblems(raw: RawEnv): string[] {
  switch (raw.AI_PROVIDER) {
    case 'none':
      return [];
    case 'gemini':
      return [
        ...(raw.GEMINI_API_KEY === undefined ? ['AI_PROVIDER is "gemini" but GEMINI_API_KEY is missing (create a key in Google AI Studio)'] : []),
        ...(raw.GEMINI_MODEL === undefined ? ['AI_PROVIDER is "gemini" but GEMINI_MODEL is missing (copy a current model id from Google AI Studio)'] : []),
      ];
    case 'manus':
      return raw.MANUS_API_KEY === undefined ? ['AI_PROVIDER is "manus" but MANUS_API_KEY is missing'] : [];
    case 'openai':
      return [
        ...(raw.OPENAI_API_KEY === undefined && raw.OPENAI_BASE_URL === undefined
          ? ['AI_PROVIDER is "openai" but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set (set a key, or the URL of a local server such as Ollama)']
          : []),
        ...(raw.OPENAI_MODEL === undefined ? ['AI_PROVIDER is "openai" but OPENAI_MODEL is missing (the model name your server serves)'] : []),
      ];
  }
}

function isSecretName(name: string): boolean {
  // A webhook URL may carry the receiver's token in its path or query.
  return /SECRET|TOKEN|KEY|PASSWORD|DATABASE_URL|REDIS_URL|WEBHOOK_URL/.test(name);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
