import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { resolveWebhookSecrets } from '../../src/config/dev-secret.js';
import { ConfigError } from '../../src/errors.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected loadConfig to throw ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});

    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, bodyLimitBytes: 1024 * 1024 });
    expect(config.stripe).toEqual({ webhookSecrets: [], toleranceSeconds: 300, livemode: false });
    expect(config.worker.maxRetries).toBe(5);
    expect(config.worker.backoffBaseMs).toBe(2000);
    expect(config.decisions.manualReviewAmount).toBe(100_000);
    expect(config.admin.token).toBeUndefined();
    expect(config.ai.provider).toBe('none');
    expect(config.storage.sqlitePath).toBe(path.resolve('./data/pipeline.db'));
    expect(Object.isFrozen(config.worker)).toBe(true);
  });

  it('splits rotated endpoint secrets', () => {
    const config = loadConfig({ STRIPE_WEBHOOK_SECRET: ' whsec_new , whsec_old ,' });

    expect(config.stripe.webhookSecrets).toEqual(['whsec_new', 'whsec_old']);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      MAX_RETRIES: '-1',
      STRIPE_MODE: 'prod',
      LOG_LEVEL: 'verbose',
      NODE_ENV: 'staging',
      ADMIN_TOKEN: 'short',
    });

    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toContain('PORT should be a whole number');
    expect(problems.join('\n')).toContain('MAX_RETRIES should be at least 0, got "-1"');
    expect(problems.join('\n')).toContain('STRIPE_MODE should be "test" or "live", got "prod"');
    expect(problems.join('\n')).toContain('LOG_LEVEL should be one of');
    expect(problems.join('\n')).toContain('NODE_ENV should be one of');
    expect(problems.join('\n')).toContain('ADMIN_TOKEN should be at least 16 characters');
  });

  it('never repeats a secret value in a message', () => {
    const problems = problemsOf({ STRIPE_WEBHOOK_SECRET: 'sk_live_not_a_webhook_secret', ADMIN_TOKEN: 'tiny' });

    expect(problems.join('\n')).toContain('should start with "whsec_"');
    expect(problems.join('\n')).not.toContain('sk_live_not_a_webhook_secret');
    expect(problems.join('\n')).not.toContain('tiny');
  });

  it('rejects a backoff maximum below its base', () => {
    expect(problemsOf({ RETRY_BACKOFF_BASE_MS: '5000', RETRY_BACKOFF_MAX_MS: '1000' })).toEqual([
      'RETRY_BACKOFF_MAX_MS should be at least RETRY_BACKOFF_BASE_MS (5000), got 1000',
    ]);
  });

  it('rejects a half-configured distributed mode', () => {
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379' })[0]).toContain('REDIS_URL is set but DATABASE_URL is not');
    expect(problemsOf({ DATABASE_URL: 'postgres://127.0.0.1/test' })[0]).toContain('DATABASE_URL is set but REDIS_URL is not');
  });

  it('requires the chosen AI provider settings', () => {
    const problems = problemsOf({ AI_PROVIDER: 'gemini' });

    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('GEMINI_API_KEY is missing');
    expect(problems[1]).toContain('GEMINI_MODEL is missing');
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ STRIPE_WEBHOOK_SECRET: '', ADMIN_TOKEN: '', REDIS_URL: '', DATABASE_URL: '', SQLITE_PATH: '' });

    expect(config.stripe.webhookSecrets).toEqual([]);
    expect(config.admin.token).toBeUndefined();
    expect(config.storage.redisUrl).toBeUndefined();
  });
});

describe('resolveWebhookSecrets', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-config-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prefers configured secrets', () => {
    const resolved = resolveWebhookSecrets({ configured: ['whsec_a'], dataDir, production: false, createIfMissing: true });

    expect(resolved).toEqual({ secrets: ['whsec_a'], devSecretPath: null, created: false });
  });

  it('creates a private development secret once and reuses it', () => {
    const first = resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: true });
    const second = resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: true });

    expect(first.created).toBe(true);
    expect(first.secrets[0]).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    expect(second).toEqual({ secrets: first.secrets, devSecretPath: first.devSecretPath, created: false });
    expect(statSync(first.devSecretPath!).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.devSecretPath!, 'utf8').trim()).toBe(first.secrets[0]);
  });

  it('rejects production without a configured secret', () => {
    expect(() => resolveWebhookSecrets({ configured: [], dataDir, production: true, createIfMissing: true })).toThrow(
      /STRIPE_WEBHOOK_SECRET is required when NODE_ENV=production/,
    );
  });

  it('rejects a corrupt development secret file', () => {
    writeFileSync(path.join(dataDir, 'dev-webhook-secret'), 'not a secret\n');

    expect(() => resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: true })).toThrow(/delete the file/);
  });

  it('reports a missing development secret when told not to create one', () => {
    expect(() => resolveWebhookSecrets({ configured: [], dataDir, production: false, createIfMissing: false })).toThrow(/no development secret exists/);
  });
});
