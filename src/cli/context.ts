import { existsSync } from 'node:fs';
import { loadConfig, withWebhookSecrets, type Config } from '../config/config.js';
import { resolveWebhookSecrets } from '../config/dev-secret.js';
import { openEmbeddedBackend } from '../backend/embedded.js';
import type { Backend } from '../backend/types.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';

/** Exit codes: 1 for a failure at run time, 2 for invalid configuration or usage. */
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

/** Raised by a command to end the process with a message and an exit code, without a stack. */
export class CommandError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CommandError';
    this.exitCode = exitCode;
  }
}

export function loadCliConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(`${error.message}\nSee .env.example for every setting and its default.`, EXIT_CONFIG);
    throw error;
  }
}

/** Logger for long-running commands: JSON lines on stdout, at LOG_LEVEL. */
export function createCliLogger(config: Config): Logger {
  return createLogger({ level: config.logLevel });
}

/**
 * Fills in the endpoint secrets: the configured ones, or the development secret in DATA_DIR
 * (created when `create` is true).
 */
export function withResolvedSecrets(config: Config, create: boolean): { config: Config; devSecretPath: string | null; created: boolean } {
  try {
    const resolved = resolveWebhookSecrets({
      configured: config.stripe.webhookSecrets,
      dataDir: config.storage.dataDir,
      production: config.env === 'production',
      createIfMissing: create,
    });
    return { config: withWebhookSecrets(config, resolved.secrets), devSecretPath: resolved.devSecretPath, created: resolved.created };
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(error.message, EXIT_CONFIG);
    throw error;
  }
}

/**
 * Opens the backend the configuration selects. Service processes enforce the start-up checks;
 * inspection commands pass `checks: 'skip'`, so an operator can still look at events and dead
 * letters while a check fails.
 */
export async function openBackend(config: Config, logger: Logger, options: { checks?: 'enforce' | 'skip' } = {}): Promise<Backend> {
  if (config.storage.redisUrl !== undefined && config.storage.databaseUrl !== undefined) {
    const { openDistributedBackend } = await import('../backend/distributed.js');
    return openDistributedBackend({ config, logger, checks: options.checks ?? 'enforce' });
  }
  return openEmbeddedBackend({ config, logger });
}

/**
 * Opens the backend for a command that only inspects or repairs recorded events. In embedded mode it
 * refuses a store file that does not exist, so a mistyped DATA_DIR is reported instead of silently
 * creating an empty database.
 */
export async function openExistingBackend(config: Config, logger: Logger): Promise<Backend> {
  const distributed = config.storage.redisUrl !== undefined && config.storage.databaseUrl !== undefined;
  if (!distributed && !existsSync(config.storage.sqlitePath)) {
    throw new CommandError(
      `No embedded store at ${config.storage.sqlitePath}. Use the same DATA_DIR or SQLITE_PATH ` +
        '(or REDIS_URL and DATABASE_URL) as the running service.',
      EXIT_CONFIG,
    );
  }
  return openBackend(config, logger, { checks: 'skip' });
}

/** Names the store a command reads, so its output cannot be mistaken for another deployment's. */
export function describeStore(config: Config): string {
  return config.storage.redisUrl !== undefined && config.storage.databaseUrl !== undefined
    ? 'the distributed store (Redis and PostgreSQL)'
    : `the embedded store at ${config.storage.sqlitePath}`;
}
