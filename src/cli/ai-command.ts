import type { Command } from 'commander';
import { runAiCheck } from '../enrichment/check.js';
import { createLogger } from '../logger.js';
import { CommandError, loadCliConfig } from './context.js';

export function registerAiCommands(program: Command): void {
  const ai = program.command('ai').description('optional AI enrichment');
  ai.command('check')
    .description('call the configured AI provider once with a synthetic dispute and print the advice or the error')
    .action(async () => {
      const config = loadCliConfig();
      // Logs go to stderr so stdout carries only the result.
      const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: process.stderr });
      const result = await runAiCheck(config, logger);
      if (!result.ok) throw new CommandError(`AI check failed (provider ${result.provider}): ${result.error}`);
      console.log(JSON.stringify({ provider: result.provider, model: result.model, latencyMs: result.latencyMs, advice: result.advice }, null, 2));
    });
}
