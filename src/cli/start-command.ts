import { InvalidArgumentError, type Command } from 'commander';
import { startService, type ServiceRole } from '../service.js';
import { CommandError, createCliLogger, EXIT_CONFIG, loadCliConfig, openBackend, withResolvedSecrets } from './context.js';

/**
 * Runs the service until SIGTERM or SIGINT, then stops claiming, finishes the jobs in flight
 * within SHUTDOWN_GRACE_MS and exits 0.
 */
export async function runService(role: ServiceRole, options: { concurrency?: number }): Promise<void> {
  const baseConfig = loadCliConfig();
  const needsSecrets = role !== 'worker';
  const resolved = needsSecrets ? withResolvedSecrets(baseConfig, true) : { config: baseConfig, devSecretPath: null, created: false };
  const { config } = resolved;
  const logger = createCliLogger(config);

  if (resolved.devSecretPath !== null) {
    logger.warn({ path: resolved.devSecretPath, created: resolved.created }, 'STRIPE_WEBHOOK_SECRET is not set; using the development endpoint secret');
    // Printed once on purpose: the user needs it for `stripe listen` or `npm run send`.
    console.error(
      `\nDevelopment endpoint secret (stored in ${resolved.devSecretPath}):\n  ${config.stripe.webhookSecrets[0]}\n` +
        'Set STRIPE_WEBHOOK_SECRET to your endpoint secret to replace it.\n',
    );
  }

  const backend = await openBackend(config, logger);
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService({ config, backend, logger, role, ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  } catch (error) {
    await backend.close();
    throw listenError(error, config.http.host, config.http.port) ?? error;
  }
  if (service.port !== null) {
    console.error(`Listening on http://${config.http.host}:${service.port}/webhooks/stripe (${backend.kind} backend)\n`);
  }

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutdown signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await service.stop();
}

export function registerStartCommands(program: Command): void {
  program
    .command('start')
    .alias('dev')
    .description('run the HTTP ingest and the worker in one process (embedded SQLite store unless REDIS_URL and DATABASE_URL are set)')
    .option('--concurrency <n>', 'jobs processed at the same time (default WORKER_CONCURRENCY)', parsePositiveInteger)
    .action(async (options: { concurrency?: number }) => runService('all', options));
}

export function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a whole number of at least 1, got "${value}"`);
  return parsed;
}

/** Turns a failure to listen into a message that names HOST or PORT; null for any other error. */
function listenError(error: unknown, host: string, port: number): CommandError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new CommandError(`Port ${port} on ${host} is already in use; stop the other process or set PORT to a free port.`, EXIT_CONFIG);
    case 'EACCES':
      return new CommandError(`Listening on port ${port} is not permitted; set PORT to a port above 1023.`, EXIT_CONFIG);
    case 'ENOTFOUND':
    case 'EADDRNOTAVAIL':
      return new CommandError(`HOST "${host}" is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its addresses.`, EXIT_CONFIG);
    case undefined:
    default:
      return null;
  }
}
