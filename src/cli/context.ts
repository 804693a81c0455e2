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
