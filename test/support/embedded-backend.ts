import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedBackend } from '../../src/backend/embedded.js';
import type { Backend } from '../../src/backend/types.js';
import { loadConfig, withWebhookSecrets, type Config } from '../../src/config/config.js';
import { envelopeOf, parseStripeEvent } from '../../src/domain/stripe-event.js';
import { createSilentLogger } from '../../src/logger.js';
import type { IngestOutcome } from '../../src/store/ports.js';
import { ManualClock } from './manual-clock.js';

export const TEST_SECRET = 'whsec_test_secret_for_the_pipeline_tests';

export interface TestBackend {
  readonly backend: Backend;
  readonly config: Config;
  readonly clock: ManualClock | null;
  readonly directory: string;
  /** Records and enqueues a raw event exactly as ingest would. */
  ingest(raw: string): Promise<IngestOutcome>;
  close(): Promise<void>;
}

/** Builds a configuration from defaults plus `overrides`, with a data directory of its own. */
export function testConfig(directory: string, overrides: Record<string, string> = {}): Config {
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: directory, LOG_LEVEL: 'silent', PORT: '0', ...overrides });
  return withWebhookSecrets(config, [TEST_SECRET]);
}

/**
 * Opens the embedded backend on a new SQLite file. With `manualTime` the store's clock is a
 * ManualClock, so leases and retry delays move only when the test advances it.
 */
export async function openTestBackend(options: { manualTime?: boolean; env?: Record<string, string> } = {}): Promise<TestBackend> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pipeline-test-'));
  const config = testConfig(directory, options.env);
  const clock = options.manualTime === true ? new ManualClock() : null;
  const backend = await openEmbeddedBackend({ config, logger: createSilentLogger(), ...(clock ? { clock: clock.now } : {}) });
  return {
    backend,
    config,
    clock,
    directory,
    ingest(raw: string): Promise<IngestOutcome> {
      const parsed = parseStripeEvent(JSON.parse(raw));
      if (!parsed.ok) throw new Error(`test event is not a Stripe event: ${parsed.problem}`);
      return backend.events.ingest({ ...envelopeOf(parsed.event), payload: raw });
    },
    async close(): Promise<void> {
      await backend.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
