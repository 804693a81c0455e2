import { InvalidArgumentError, type Command } from 'commander';
import type { Backend } from '../backend/types.js';
import { InvalidTransitionError, NotFoundError } from '../errors.js';
import { createSilentLogger } from '../logger.js';
import { EVENT_STATUSES, type EventRecord, type EventStatus } from '../store/ports.js';
import { CommandError, loadCliConfig, openExistingBackend } from './context.js';

export function registerEventCommands(program: Command): void {
  const events = program.command('events').description('inspect recorded events');
  events
    .command('list')
    .description('list recorded events, newest first')
    .option('--status <status>', `only events in this state (${EVENT_STATUSES.join(', ')})`, parseStatus)
    .option('--type <type>', 'only events of this type, e.g. invoice.paid')
    .option('--limit <n>', 'at most this many events (1 to 500)', parseLimit, 50)
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { status?: EventStatus; type?: string; limit: number; json?: boolean }) =>
      withBackend(async (backend) => {
        const records = await backend.events.list({ status: options.status, type: options.type, limit: options.limit });
        printRecords(records, options.json === true);
      }),
    );
  events
    .command('show')
    .description('show one event: state, attempts, last error, decision and timestamps')
    .argument('<eventId>', 'Stripe event id (evt_…)')
    .option('--payload', 'include the raw payload')
    .action(async (eventId: string, options: { payload?: boolean }) =>
      withBackend(async (backend) => {
        const record = await backend.events.get(eventId);
        if (record === null) throw new CommandError(`Event ${eventId} was not found; list recent events with \`events list\`.`);
        console.log(JSON.stringify(presentRecord(record, options.payload === true), null, 2));
      }),
    );

  const deadLetters = program.command('dead-letters').description('inspect and replay dead-lettered events');
  deadLetters
    .command('list')
    .description('list dead-lettered events with their last error')
    .option('--limit <n>', 'at most this many events (1 to 500)', parseLimit, 50)
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { limit: number; json?: boolean }) =>
      withBackend(async (backend) => printRecords(await backend.queue.listDeadLetters(options.limit), options.json === true)),
    );
  deadLetters
    .command('replay')
    .description('queue dead-lettered (or failed) events again with their attempts reset')
    .argument('<eventIds...>', 'Stripe event ids (evt_…)')
    .action(async (eventIds: string[]) =>
      withBackend(async (backend) => {
        let failed = 0;
        for (const eventId of eventIds) {
          try {
            await backend.queue.replay(eventId);
            console.log(`queued ${eventId}`);
          } catch (error) {
            if (error instanceof NotFoundError) {
              failed += 1;
              console.log(`skipped ${eventId}: no such event; list dead letters with \`dead-letters list\``);
            } else if (error instanceof InvalidTransitionError) {
              failed += 1;
              console.log(`skipped ${eventId}: it is ${String(error.context.from)}, and only failed or dead events can be replayed`);
            } else {
              throw error;
            }
          }
        }
        if (failed > 0) throw new CommandError(`${failed} of ${eventIds.length} events were not replayed.`);
      }),
    );
}

async function withBackend(work: (backend: Backend) => Promise<void>): Promise<void> {
  const config = loadCliConfig();
  const backend = await openExistingBackend(config, createSilentLogger());
  try {
    await work(backend);
  } finally {
    await backend.close();
  }
}

function presentRecord(record: EventRecord, includePayload: boolean): Record<string, unknown> {
  const { payload, ...rest } = record;
  return includePayload ? { ...rest, payload: JSON.parse(payload) as unknown } : rest;
}

function printRecords(records: EventRecord[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(records.map((record) => presentRecord(record, false)), null, 2));
    return;
  }
  if (records.length === 0) {
    console.log('no events');
    return;
  }
  console.log(['received at'.padEnd(24), 'status'.padEnd(10), 'attempts', 'event id', 'type', 'action', 'last error'].join(' '));
  for (const record of records) {
    const action = record.decision?.action ?? '-';
    const error = record.lastError === null ? '' : `  ${record.lastError}`;
    console.log(
      `${record.receivedAt.toISOString()} ${record.status.padEnd(10)} ${String(record.attempts).padStart(8)} ${record.id} ${record.type} ${action}${error}`,
    );
  }
}

function parseStatus(value: string): EventStatus {
  const status = EVENT_STATUSES.find((candidate) => candidate === value);
  if (status === undefined) throw new InvalidArgumentError(`expected one of ${EVENT_STATUSES.join(', ')}, got "${value}"`);
  return status;
}

function parseLimit(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 500) throw new InvalidArgumentError(`expected a whole number from 1 to 500, got "${value}"`);
  return parsed;
}
