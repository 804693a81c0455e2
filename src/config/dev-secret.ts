import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';

const DEV_SECRET_FILE = 'dev-webhook-secret';

export interface ResolvedSecrets {
  readonly secrets: readonly string[];
  /** Where the development secret lives, when one was used. */
  readonly devSecretPath: string | null;
  readonly created: boolean;
}

/**
 * Returns the configured endpoint secrets, or, outside production, a development secret kept in
 * the data directory (created on first use) so the first run needs no setup. Production without
 * STRIPE_WEBHOOK_SECRET is a configuration error.
 */
export function resolveWebhookSecrets(options: {
  configured: readonly string[];
  dataDir: string;
  production: boolean;
  createIfMissing: boolean;
}): ResolvedSecrets {
  if (options.configured.length > 0) return { secrets: options.configured, devSecretPath: null, created: false };
  if (options.production) {
    throw new ConfigError([
      'STRIPE_WEBHOOK_SECRET is required when NODE_ENV=production (copy the endpoint secret from the Stripe Dashboard)',
    ]);
  }

  const file = path.join(options.dataDir, DEV_SECRET_FILE);
  const existing = readSecretFile(file);
  if (existing !== null) return { secrets: [existing], devSecretPath: file, created: false };
  if (!options.createIfMissing) {
    throw new ConfigError([
      `STRIPE_WEBHOOK_SECRET is not set and no development secret exists at ${file} (run \`npm start\` once, or set the variable)`,
    ]);
  }

  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secrets: [secret], devSecretPath: file, created: true };
}

function readSecretFile(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const secret = text.trim();
  if (!secret.startsWith('whsec_')) {
    throw new ConfigError([`${file} should contain one endpoint secret starting with "whsec_"; delete the file to create a new one`]);
  }
  return secret;
}
