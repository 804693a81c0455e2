import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../../src/config/config.js';
import { ProviderBreakers } from '../../../src/enrichment/breaker.js';
import type { AiTaskDeps, AiTaskResult } from '../../../src/enrichment/run-task.js';
import type { AiProvider } from '../../../src/enrichment/types.js';
import { createLogger, type Logger } from '../../../src/logger.js';

/** Keys the mock servers expect; tests check that none of them reaches a log line. */
export const TEST_KEYS = {
  gemini: 'AIzaTestGeminiKey-never-log-0001',
  openai: 'sk-test-openai-key-never-log-0001',
  manus: 'manus-test-key-never-log-0001',
} as const;

/** Creates a debug-level logger that keeps every line, so tests can search what was logged. */
export function capturingLogger(): { logger: Logger; lines: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines: () => chunks.join('') };
}

/** Loads the configuration as the service would, from environment variables. */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
}

export interface TaskHarness extends AiTaskDeps {
  readonly breakers: ProviderBreakers;
}

/** Dependencies of runAiTask with a fresh breaker: 3 failures open it, and calls time out after `timeoutMs`. */
export function taskHarness(provider: AiProvider, logger: Logger, settings: { timeoutMs?: number; breakerResetMs?: number } = {}): TaskHarness {
  const breakers = new ProviderBreakers(
    { timeoutMs: settings.timeoutMs ?? 2000, breakerFailures: 3, breakerResetMs: settings.breakerResetMs ?? 60_000 },
    logger,
  );
  return { provider, breakers };
}

/** Returns why a result carries no advice: the reason of `unavailable` or the error of `failed`. */
export function reasonOf(result: AiTaskResult): string | null {
  if (result.outcome === 'unavailable') return result.reason;
  if (result.outcome === 'failed') return result.error;
  return null;
}
