import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths removed from every log line. Messages log ids and types, never payloads, but this list
 * is the last guard if someone passes a request or event object to a log call.
 */
const REDACTED_PATHS = [
  'secret',
  'secrets',
  'signature',
  'headers["stripe-signature"]',
  'headers.authorization',
  'authorization',
  'adminToken',
  'apiKey',
  'payload',
  'body',
  '*.secret',
  '*.apiKey',
  '*.payload',
  '*.card',
];

export function createLogger(options: { level: string; name?: string; destination?: NodeJS.WritableStream }): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'stripe-pipeline',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

/** Logger that drops everything, for tests that do not inspect logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
