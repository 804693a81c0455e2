#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAiCommands } from './ai-command.js';
import { PipelineError } from '../errors.js';
import { CommandError, EXIT_FAILURE } from './context.js';
import { registerEventCommands } from './events-commands.js';
import { registerProcessCommands } from './process-commands.js';
import { registerSendCommand } from './send-command.js';
import { registerStartCommands } from './start-command.js';

// A reader such as `head` may close the pipe early; that ends the output, not in an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command()
  .name('stripe-pipeline')
  .description('Receive Stripe webhooks, queue them durably and apply each event to the ledger once.')
  .showHelpAfterError()
  .exitOverride();

registerStartCommands(program);
registerProcessCommands(program);
registerSendCommand(program);
registerEventCommands(program);
registerAiCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommandError) {
    console.error(error.message);
    process.exitCode = error.exitCode;
  } else if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    // Pipeline errors carry messages written for operators; other errors keep their name.
    console.error(error instanceof PipelineError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = EXIT_FAILURE;
  }
}
