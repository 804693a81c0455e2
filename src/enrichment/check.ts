import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../config/config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../store/ports.js';
import { ProviderBreakers } from './breaker.js';
import { EnrichmentSetupError } from './errors.js';
import { createProviderFromConfig } from './providers/index.js';
import { pollAiTask, runAiTask, type AiTaskResult } from './run-task.js';
import type { Advice } from './schemas.js';
import type { AiProvider } from './types.js';

export type AiCheckResult =
  | { readonly ok: true; readonly provider: string; readonly model: string; readonly latencyMs: number; readonly advice: Advice }
  | { readonly ok: false; readonly provider: string; readonly error: string };

export interface AiCheckOptions {
  /** Replaces the provider built from the configuration. */
  readonly provider?: AiProvider;
  readonly clock?: Clock;
  /** Waits between polls of an asynchronous task; injected so tests need not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A made-up dispute with no real data: the same shape as a `charge.dispute.created` event, so the
 * check runs the real prompt builder, provider call and schema validation.
 */
const SYNTHETIC_EVENT = {
  id: 'evt_1CheckSynthetic00000000',
  object: 'event',
  type: 'charge.dispute.created',
  created: 1_787_839_200,
  livemode: false,
  data: {
    object: {
      id: 'du_1CheckSynthetic0000000',
      object: 'dispute',
      amount: 5000,
      currency: 'usd',
      charge: 'ch_1CheckSynthetic0000000',
      payment_intent: 'pi_1CheckSynthetic0000000',
      created: 1_787_839_200,
      reason: 'product_not_received',
      status: 'needs_response',
      is_charge_refundable: false,
      evidence_details: { due_by: 1_789_516_799, has_evidence: false, past_due: false, submission_count: 0 },
      payment_method_details: { type: 'card', card: { brand: 'visa', network_reason_code: '13.1', case_type: 'chargeback' } },
      metadata: { order_id: 'order_check' },
    },
  },
} as const;

/**
 * Calls the configured provider once with a synthetic dispute and returns the validated advice or
 * a clear error. Meant for `ai check` after setting the provider's environment variables; it
 * never touches the queue or the ledger. An asynchronous provider (Manus) is polled until its
 * task finishes or MANUS_TASK_TIMEOUT_MS passes.
 */
export async function runAiCheck(config: Config, logger: Logger, options: AiCheckOptions = {}): Promise<AiCheckResult> {
  if (config.ai.provider === 'none' && options.provider === undefined) {
    return { ok: false, provider: 'none', error: 'AI_PROVIDER is "none"; set it to gemini, openai or manus and set that provider\'s key and model.' };
  }

  let provider: AiProvider;
  try {
    const created = options.provider ?? createProviderFromConfig(config.ai, logger);
    if (created === null) throw new EnrichmentSetupError('No AI provider is configured.');
    provider = created;
  } catch (error) {
    return { ok: false, provider: config.ai.provider, error: describeError(error) };
  }

  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const deps = { provider, breakers: new ProviderBreakers(config.ai, logger), clock };
  const log = logger.child({ component: 'ai-check', provider: provider.name, model: provider.model });

  log.info('ai check started');
  let result: AiTaskResult = await runAiTask('dispute_summary', { eventType: SYNTHETIC_EVENT.type, payload: SYNTHETIC_EVENT }, deps);
  while (result.outcome === 'pending') {
    const { pending } = result;
    if (clock() - pending.startedAtMs >= config.ai.manus.taskTimeoutMs) {
      await provider.cancel?.({ taskId: pending.taskId, signal: AbortSignal.timeout(config.ai.timeoutMs) }).catch((error: unknown) => {
        log.warn({ taskId: pending.taskId, error: describeError(error) }, 'provider task cancel failed');
      });
      return { ok: false, provider: provider.name, error: `The ${provider.name} task did not finish within ${config.ai.manus.taskTimeoutMs} ms.` };
    }
    await sleep(config.ai.manus.pollIntervalMs);
    result = await pollAiTask('dispute_summary', pending, deps);
  }

  log.info({ outcome: result.outcome }, 'ai check finished');
  switch (result.outcome) {
    case 'ok':
      return { ok: true, provider: provider.name, model: result.model, latencyMs: result.latencyMs, advice: result.advice };
    case 'unavailable':
      return { ok: false, provider: provider.name, error: `The provider answered without usable advice: ${result.reason}.` };
    case 'failed':
      return { ok: false, provider: provider.name, error: result.error };
    case 'skipped_breaker_open':
      return { ok: false, provider: provider.name, error: 'The circuit breaker is open; the provider was not called.' };
  }
}
