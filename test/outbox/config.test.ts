import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

const BASE = { NODE_ENV: 'test' } as const;
const SECRET = 'c'.repeat(64);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('outbox settings', () => {
  it('default to no relay and documented limits', () => {
    expect(loadConfig(BASE).outbox).toEqual({
      webhookUrl: undefined,
      signingSecret: undefined,
      maxAttempts: 10,
      timeoutMs: 5000,
      pollIntervalMs: 500,
    });
  });

  it('read every variable', () => {
    const config = loadConfig({
      ...BASE,
      OUTBOX_WEBHOOK_URL: 'https://shop.example/hooks/pipeline',
      OUTBOX_SIGNING_SECRET: SECRET,
      OUTBOX_MAX_ATTEMPTS: '3',
      OUTBOX_TIMEOUT_MS: '2000',
      OUTBOX_POLL_INTERVAL_MS: '250',
    });
    expect(config.outbox).toEqual({
      webhookUrl: 'https://shop.example/hooks/pipeline',
      signingSecret: SECRET,
      maxAttempts: 3,
      timeoutMs: 2000,
      pollIntervalMs: 250,
    });
  });

  it('require a signing secret with the URL', () => {
    expect(problemsOf({ OUTBOX_WEBHOOK_URL: 'https://shop.example/hooks' })).toEqual([
      expect.stringContaining('OUTBOX_SIGNING_SECRET is missing') as unknown,
    ]);
  });

  it('reject a short signing secret without echoing it', () => {
    const problems = problemsOf({ OUTBOX_WEBHOOK_URL: 'https://shop.example/hooks', OUTBOX_SIGNING_SECRET: 'short-secret-value' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('at least 32 characters');
    expect(problems[0]).toContain('openssl rand -hex 32');
    expect(problems[0]).not.toContain('short-secret-value');
  });

  it('reject a URL that is not http or https without echoing it', () => {
    const problems = problemsOf({ OUTBOX_WEBHOOK_URL: 'ftp://user:token@shop.example/', OUTBOX_SIGNING_SECRET: SECRET });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('OUTBOX_WEBHOOK_URL should be a URL starting with http:// or https://');
    expect(problems[0]).not.toContain('token');
  });

  it.each([
    ['OUTBOX_MAX_ATTEMPTS', '0'],
    ['OUTBOX_TIMEOUT_MS', '10'],
    ['OUTBOX_POLL_INTERVAL_MS', 'soon'],
  ])('reject %s=%s', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([expect.stringContaining(name) as unknown]);
  });
});
