import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { loadConfig, type Config } from '../../src/config/config.js';

const FIXTURE_DIR = new URL('../../fixtures/stripe-events/', import.meta.url);

/** The exact bytes of a fixture event, decoded as UTF-8, as Stripe would send them. */
export function fixtureBody(name: string): string {
  return readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8');
}

/** Test-mode endpoint secrets; synthetic values in the `whsec_` format. */
export const SECRET = 'whsec_test_primary_0123456789abcdef0123456789';
export const OLD_SECRET = 'whsec_test_rotated_fedcba9876543210fedcba98';

/** A fixed "now" for the signature clock: 2026-08-10T12:00:00Z, in milliseconds. */
export const NOW_MS = Date.UTC(2026, 7, 10, 12, 0, 0);
export const NOW_SECONDS = NOW_MS / 1000;

/** Signs `payload` the way Stripe does, with stripe-node's own test helper. */
export function signatureHeader(payload: string, options: { secret?: string; timestampSeconds?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? SECRET,
    timestamp: options.timestampSeconds ?? NOW_SECONDS,
  });
}

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/** Loads a configuration as the service would, with the test secret and the given overrides. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    STRIPE_WEBHOOK_SECRET: SECRET,
    ...env,
  });
}
