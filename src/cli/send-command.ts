import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import type { Backend } from '../backend/types.js';
import { findMismatches, type Mismatch } from '../samples/compare.js';
import { deliverAll, type Delivery } from '../samples/deliver.js';
import { findJourney, listSampleFiles, loadJourneys, readSample } from '../samples/fixtures.js';
import { instantiateJourney, type JourneyCopy } from '../samples/instantiate.js';
import { readJourneyState } from '../samples/journey-state.js';
import { createSilentLogger } from '../logger.js';
import { CommandError, describeStore, EXIT_CONFIG, loadCliConfig, openExistingBackend, withResolvedSecrets } from './context.js';

interface SendOptions {
  journey?: string[];
  all?: boolean;
  twice?: boolean;
  list?: boolean;
  url?: string;
  secret?: string;
  original?: boolean;
  verify?: boolean;
  timeout: number;
  concurrency: number;
}

export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('sign and post bundled sample events or whole journeys to a running endpoint, like `stripe trigger`')
    .argument('[files...]', 'sample event file names (see --list)')
    .option('--journey <id...>', 'send every event of these journeys, in order')
    .option('--all', 'send every journey')
    .option('--twice', 'deliver every event twice, as Stripe may')
    .option('--original', 'keep the sample ids; by default each journey gets fresh ids so it can be sent again')
    .option('--verify', 'wait until every event is processed and compare the ledger with each journey\'s expected state')
    .option('--url <url>', 'webhook endpoint (default http://127.0.0.1:$PORT/webhooks/stripe)')
    .option('--secret <whsec>', 'endpoint secret to sign with (default STRIPE_WEBHOOK_SECRET, or the development secret)')
    .option('--timeout <seconds>', 'how long --verify waits for processing', parseSeconds, 30)
    .option('--concurrency <n>', 'deliveries in flight at once', parseCount, 1)
    .option('--list', 'list the sample events and journeys')
    .action(async (files: string[], options: SendOptions) => send(files, options));
}

async function send(files: string[], options: SendOptions): Promise<void> {
  if (options.list === true) {
    printSamples();
    return;
  }
  const copies = selectJourneys(options);
  const singles = files.map((file) => readSampleOrFail(file));
  if (copies.length === 0 && singles.length === 0) {
    throw new CommandError('Nothing to send: name sample files, or use --journey <id> or --all (see --list).', EXIT_CONFIG);
  }

  const baseConfig = loadCliConfig();
  const secret = options.secret ?? withResolvedSecrets(baseConfig, false).config.stripe.webhookSecrets[0];
  if (secret === undefined) throw new CommandError('No endpoint secret: pass --secret or set STRIPE_WEBHOOK_SECRET.', EXIT_CONFIG);
  const url = options.url ?? `http://127.0.0.1:${baseConfig.http.port}/webhooks/stripe`;

  const deliveries: Delivery[] = [
    ...singles.map((sample) => ({ raw: sample.raw, label: sample.file })),
    ...copies.flatMap((copy) => copy.events.map((event) => ({ raw: event.raw, label: `${copy.journey.id}/${event.file}` }))),
  ];
  const planned = options.twice === true ? deliveries.flatMap((delivery) => [delivery, delivery]) : deliveries;

  const results = await deliverAll({ url, secret, deliveries: planned, concurrency: options.concurrency });
  let failures = 0;
  for (const result of results) {
    const ok = result.status >= 200 && result.status < 300;
    if (!ok) failures += 1;
    let note = ` ${result.body}`;
    if (ok) note = result.body.includes('"duplicate":true') ? ' (duplicate)' : '';
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${result.status || 'no response'} ${result.eventId} ${result.label}${note}`);
  }
  console.log(`\n${results.length - failures} of ${results.length} deliveries accepted by ${url}`);
  if (failures > 0) {
    const unreachable = results.every((result) => result.status === 0);
    throw new CommandError(
      unreachable
        ? `Nothing answers at ${url}. Start the service (npm start), or pass --url, or set PORT to the port it listens on.`
        : `${failures} deliveries failed; see the lines marked FAIL.`,
    );
  }

  if (options.verify === true) {
    const eventIds = [...new Set(results.map((result) => result.eventId))];
    await verify(copies, eventIds, options.timeout);
  }
}

async function verify(copies: JourneyCopy[], eventIds: string[], timeoutSeconds: number): Promise<void> {
  const config = loadCliConfig();
  const backend = await openExistingBackend(config, createSilentLogger());
  console.log(`checking the ledger in ${describeStore(config)}`);
  try {
    const pending = await waitForEvents(backend, eventIds, timeoutSeconds * 1000);
    if (pending.length > 0) {
      throw new CommandError(`${pending.length} events were not processed within ${timeoutSeconds} s: ${pending.slice(0, 10).join(', ')}`);
    }
    console.log(`all ${eventIds.length} events processed`);

    let failed = 0;
    for (const copy of copies) {
      const eventIds = copy.events.map((event) => (JSON.parse(event.raw) as { id: string }).id);
      const actual = await readJourneyState(backend.ledger, copy.expected, { eventIds });
      const mismatches = findMismatches(copy.expected, actual);
      if (mismatches.length === 0) {
        console.log(`ok   ${copy.journey.id}: ledger matches the expected state`);
      } else {
        failed += 1;
        console.log(`FAIL ${copy.journey.id}:\n${formatMismatches(mismatches)}`);
      }
    }
    if (failed > 0) throw new CommandError(`${failed} journeys did not reach their expected state.`);
  } finally {
    await backend.close();
  }
}

/** Polls the event store until every event is processed or dead; returns those still pending. */
async function waitForEvents(backend: Backend, eventIds: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = eventIds;
  while (pending.length > 0 && Date.now() < deadline) {
    const records = await Promise.all(pending.map((id) => backend.events.get(id)));
    pending = pending.filter((_, index) => {
      const status = records[index]?.status;
      return status !== 'processed' && status !== 'dead';
    });
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return pending;
}

function selectJourneys(options: SendOptions): JourneyCopy[] {
  const journeys = options.all === true ? loadJourneys() : (options.journey ?? []).map((id) => findJourneyOrFail(id));
  const run = randomBytes(3).toString('hex').toUpperCase();
  return journeys.map((journey, index) => instantiateJourney(journey, options.original === true ? '' : `T${run}J${index}`));
}

function findJourneyOrFail(id: string): ReturnType<typeof findJourney> {
  try {
    return findJourney(id);
  } catch (error) {
    throw new CommandError(error instanceof Error ? error.message : String(error), EXIT_CONFIG);
  }
}

function readSampleOrFail(file: string): ReturnType<typeof readSample> {
  try {
    return readSample(file);
  } catch (error) {
    throw new CommandError(error instanceof Error ? error.message : String(error), EXIT_CONFIG);
  }
}

function printSamples(): void {
  console.log('Sample events:');
  for (const file of listSampleFiles()) console.log(`  ${file}`);
  console.log('\nJourneys:');
  for (const journey of loadJourneys()) console.log(`  ${journey.id.padEnd(44)} ${journey.events.length} events`);
}

function formatMismatches(mismatches: Mismatch[]): string {
  return mismatches
    .map((mismatch) => `  ${mismatch.path}: expected ${JSON.stringify(mismatch.expected)}, got ${JSON.stringify(mismatch.actual)}`)
    .join('\n');
}

function parseSeconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`expected a number of seconds above 0, got "${value}"`);
  return parsed;
}

function parseCount(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 256) throw new InvalidArgumentError(`expected a whole number from 1 to 256, got "${value}"`);
  return parsed;
}
