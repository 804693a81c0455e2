import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { runDoctor } from '../doctor/doctor.js';
import { postgresFailureMessage } from '../doctor/postgres-failure.js';
import { formatDoctorReport, hasFailedDanger } from '../doctor/report.js';
import { PipelineError } from '../errors.js';
import { LedgerMigrationError, migrateLedger, pendingLedgerMigrations } from '../ledger/migrate.js';
import { ledgerMigrations } from '../ledger/migrations/index.js';
import type { LedgerDatabase } from '../ledger/schema.js';
import { createPostgresLedger, describePostgresUrl, postgresMigrationOptions } from '../ledger/postgres.js';
import { createSilentLogger } from '../logger.js';
import type { ServiceRole } from '../service.js';
import { CommandError, EXIT_CONFIG, EXIT_FAILURE, loadCliConfig } from './context.js';
import { parsePositiveInteger, runService } from './start-command.js';

/**
 * Registers the commands of the distributed mode. `serve` and `worker` run one role each, so they
 * scale apart. `migrate` prepares the ledger database before a deploy, and `doctor` prints the
 * self-checks. `start` keeps running both roles in one process.
 */
export function registerProcessCommands(program: Command): void {
  program
    .command('serve')
    .description('run only the HTTP ingest (scale it out behind a load balancer; run `worker` processes beside it)')
    .action(async () => runProcess('serve', {}));

  program
    .command('worker')
    .description('run only the worker that applies queued events to the ledger (no HTTP port)')
    .option('--concurrency <n>', 'jobs processed at the same time (default WORKER_CONCURRENCY)', parsePositiveInteger)
    .action(async (options: { concurrency?: number }) => runProcess('worker', options));

  program
    .command('migrate')
    .description('apply pending ledger migrations to the PostgreSQL database at DATABASE_URL and print what ran')
    .action(async () => runMigrate());

  program
    .command('doctor')
    .description('print every self-check (Redis persistence and eviction, leases, migrations, secrets); exits 1 when a danger check fails')
    .action(async () => runDoctorCommand());
}

/**
 * Runs `serve` or `worker`. A failure to start (Redis or PostgreSQL unreachable, a failed start-up
 * check) is printed as its message alone, since each message names the service, the reason and the fix.
 */
async function runProcess(role: ServiceRole, options: { concurrency?: number }): Promise<void> {
  try {
    await runService(role, options);
  } catch (error) {
    if (error instanceof PipelineError) throw new CommandError(error.message, EXIT_FAILURE);
    throw error;
  }
}

async function runMigrate(): Promise<void> {
  const config = loadCliConfig();
  const { databaseUrl } = config.storage;
  if (databaseUrl === undefined) {
    throw new CommandError('migrate needs DATABASE_URL (and REDIS_URL); the embedded SQLite ledger is migrated by `start` itself.', EXIT_CONFIG);
  }
  const target = describePostgresUrl(databaseUrl);
  const ledger = createPostgresLedger({ url: databaseUrl, logger: createSilentLogger(), maxConnections: 1 });
  try {
    await migrate(ledger, target);
  } catch (error) {
    if (error instanceof CommandError) throw error;
    // A missing schema carries its own message and fix; driver errors name neither PostgreSQL nor DATABASE_URL.
    if (error instanceof PipelineError && !(error instanceof LedgerMigrationError)) throw new CommandError(error.message, EXIT_FAILURE);
    throw new CommandError(postgresFailureMessage(error, { target, action: 'Migrating the ledger' }), EXIT_FAILURE);
  } finally {
    await ledger.destroy();
  }
}

/** Applies the pending migrations and prints what ran; `target` is the database without its password. */
async function migrate(ledger: Kysely<LedgerDatabase>, target: string): Promise<void> {
  const migrationOptions = await postgresMigrationOptions(ledger);
  const where = `${target} (schema ${migrationOptions.migrationTableSchema ?? 'public'})`;
  const pending = await pendingLedgerMigrations(ledger, migrationOptions);
  if (pending.length === 0) {
    console.log(`The ledger at ${where} is up to date; all ${Object.keys(ledgerMigrations).length} migrations were applied before.`);
    return;
  }
  await migrateLedger(ledger, migrationOptions);
  // Another process may have applied some of them at the same time; report what this run saw.
  const left = await pendingLedgerMigrations(ledger, migrationOptions);
  for (const name of pending) console.log(`applied ${name}`);
  if (left.length > 0) throw new CommandError(`Migrations still pending after the run: ${left.join(', ')}.`, EXIT_FAILURE);
  console.log(`The ledger at ${where} is up to date.`);
}

async function runDoctorCommand(): Promise<void> {
  const config = loadCliConfig();
  const report = await runDoctor({ config, logger: createSilentLogger() });
  console.log(formatDoctorReport(report, config));
  if (hasFailedDanger(report.checks)) process.exitCode = EXIT_FAILURE;
}
