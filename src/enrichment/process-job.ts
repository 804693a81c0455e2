import type { Logger } from '../logger.js';
import type { Clock } from '../store/ports.js';
import { CircuitOpenError, type ProviderBreakers } from './breaker.js';
import { AiProviderError } from './errors.js';
import type { EnrichmentJob, EnrichmentQueue } from './ports.js';
import type { EnrichmentResults } from './results.js';
import { pollAiTask, runAiTask, type AiTaskResult } from './run-task.js';
import type { AiProvider, EnrichmentOutcome } from './types.js';

/** An event as the event store returns it for enrichment. */
export interface LoadedEvent {
  readonly type: string;
  /** The Stripe event: an object, or the raw JSON body as received. */
  readonly payload: unknown;
}

export type LoadEvent = (eventId: string) => Promise<LoadedEvent | null> | LoadedEvent | null;

/** Outcome of one provider call, for the metrics counter: a recorded outcome, or a step on the way. */
export type EnrichmentCallOutcome = EnrichmentOutcome | 'pending' | 'retry';

export interface RetryPolicy {
  /** Attempts per job, including the first; a failure on the last one is recorded as `failed`. */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Random source in [0, 1) for the jitter; injected so tests are exact. */
  readonly random: () => number;
}

export interface ProcessJobDeps {
  readonly queue: EnrichmentQueue;
  readonly provider: AiProvider;
  readonly breakers: ProviderBreakers;
  readonly results: EnrichmentResults;
  readonly loadEvent: LoadEvent;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  /** Poll interval and longest run of an asynchronous provider task (Manus). */
  readonly pendingTask: { readonly pollIntervalMs: number; readonly timeoutMs: number };
  readonly onCall?: ((provider: string, outcome: EnrichmentCallOutcome) => void) | undefined;
}

/**
 * Runs one step of an enrichment job and moves the job on: records the result and completes the
 * job, schedules a retry, or parks the job until the next poll of a pending provider task.
 * A result already recorded for the event and task is the cache: the provider is not called again.
 */
export async function processEnrichmentJob(job: EnrichmentJob, deps: ProcessJobDeps): Promise<void> {
  const { provider, results, queue } = deps;
  const log = deps.logger.child({ eventId: job.eventId, eventType: job.eventType, task: job.task, attempt: job.attempt, provider: provider.name });

  const existing = await results.find(job.eventId, job.task);
  if (existing !== null && existing.outcome !== 'skipped_breaker_open') {
    log.debug({ outcome: existing.outcome }, 'enrichment already recorded');
    await queue.complete(job);
    return;
  }

  const result = job.pending === null ? await startTask(job, deps) : await continueTask(job, job.pending, deps, log);
  deps.onCall?.(provider.name, callOutcome(result, job, deps.retry));

  if (result.outcome === 'pending') {
    const dueAtMs = Math.min(deps.clock() + deps.pendingTask.pollIntervalMs, result.pending.startedAtMs + deps.pendingTask.timeoutMs);
    await queue.waitUntil(job, { dueAtMs, pending: result.pending });
    log.debug({ taskId: result.pending.taskId, dueAtMs }, 'enrichment waiting for provider task');
    return;
  }

  if (result.outcome === 'failed' && result.retryable && job.attempt < deps.retry.maxAttempts) {
    const delayMs = retryDelayMs(job.attempt, result.retryAfterMs, deps.retry);
    await queue.retry(job, { delayMs, error: result.error });
    log.warn({ error: result.error, delayMs }, 'enrichment retry scheduled');
    return;
  }

  await results.record({
    eventId: job.eventId,
    task: job.task,
    account: job.account,
    eventType: job.eventType,
    provider: provider.name,
    model: result.model,
    outcome: result.outcome,
    advice: result.outcome === 'ok' ? result.advice : null,
    error: errorText(result),
    latencyMs: result.latencyMs,
  });
  await queue.complete(job);

  const fields = { outcome: result.outcome, model: result.model, latencyMs: result.latencyMs, error: errorText(result) };
  if (result.outcome === 'ok') log.info(fields, 'enrichment recorded');
  else log.warn(fields, 'enrichment recorded without advice');
}

async function startTask(job: EnrichmentJob, deps: ProcessJobDeps): Promise<AiTaskResult> {
  const event = await deps.loadEvent(job.eventId);
  if (event === null) {
    return { outcome: 'unavailable', reason: 'the event was not found in the event store', model: deps.provider.model, latencyMs: 0 };
  }
  return runAiTask(job.task, { eventType: event.type, payload: event.payload }, deps);
}

async function continueTask(
  job: EnrichmentJob,
  pending: NonNullable<EnrichmentJob['pending']>,
  deps: ProcessJobDeps,
  log: Logger,
): Promise<AiTaskResult> {
  const elapsedMs = deps.clock() - pending.startedAtMs;
  if (elapsedMs >= deps.pendingTask.timeoutMs) {
    await cancelQuietly(pending.taskId, deps, log);
    return {
      outcome: 'unavailable',
      reason: `the ${deps.provider.name} task did not finish within ${deps.pendingTask.timeoutMs} ms`,
      model: deps.provider.model,
      latencyMs: elapsedMs,
    };
  }

  const result = await pollAiTask(job.task, pending, deps);
  // An open breaker must not lose a task that is still running: poll again later instead.
  if (result.outcome === 'skipped_breaker_open') return { outcome: 'pending', model: result.model, pending };
  return result;
}

// The task timed out, so the outcome is decided; stopping the task only saves provider credits.
async function cancelQuietly(taskId: string, deps: ProcessJobDeps, log: Logger): Promise<void> {
  const cancel = deps.provider.cancel?.bind(deps.provider);
  if (cancel === undefined) return;
  try {
    await deps.breakers.execute(deps.provider.name, (signal) => cancel({ taskId, signal }));
  } catch (error) {
    if (!(error instanceof AiProviderError || error instanceof CircuitOpenError)) throw error;
    log.warn({ taskId, code: error.code }, 'provider task cancel failed');
  }
}

/** Exponential backoff with ±20 % jitter, or the provider's own wait when it sent one, capped. */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, policy: RetryPolicy): number {
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, 0), policy.backoffMaxMs);
  const exponential = Math.min(policy.backoffBaseMs * 2 ** (attempt - 1), policy.backoffMaxMs);
  return Math.round(exponential * (0.8 + 0.4 * policy.random()));
}

function callOutcome(result: AiTaskResult, job: EnrichmentJob, retry: RetryPolicy): EnrichmentCallOutcome {
  if (result.outcome === 'failed' && result.retryable && job.attempt < retry.maxAttempts) return 'retry';
  return result.outcome;
}

function errorText(result: AiTaskResult): string | null {
  switch (result.outcome) {
    case 'unavailable':
      return result.reason;
    case 'failed':
      return result.error;
    case 'skipped_breaker_open':
      return 'the circuit breaker was open; the provider was not called';
    case 'ok':
    case 'pending':
      return null;
  }
}
