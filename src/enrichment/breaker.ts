import {
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IMergedPolicy,
  type ICancellationContext,
  type IDefaultPolicyContext,
} from 'cockatiel';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AiProviderError } from './errors.js';
import type { AiProviderName, BreakerStateName } from './types.js';

export interface BreakerSettings {
  /** Maximum duration of one provider call; a slower call is aborted and counts as a failure. */
  readonly timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  readonly breakerFailures: number;
  /** How long the circuit stays open before one trial call is let through. */
  readonly breakerResetMs: number;
}

/** Raised instead of calling a provider whose circuit breaker is open. */
export class CircuitOpenError extends PipelineError {
  readonly provider: AiProviderName;

  constructor(provider: AiProviderName) {
    super('ai_circuit_open', `The circuit breaker for ${provider} is open after repeated failures; the provider was not called.`, {
      context: { provider },
    });
    this.provider = provider;
  }
}

type ProviderPolicy = IMergedPolicy<ICancellationContext & IDefaultPolicyContext, never, [CircuitBreakerPolicy, ReturnType<typeof timeout>]>;

interface BreakerEntry {
  readonly breaker: CircuitBreakerPolicy;
  readonly policy: ProviderPolicy;
  state: BreakerStateName;
}

/**
 * One circuit breaker per provider, shared by every enrichment job in the process. The breaker
 * wraps a timeout, so a call that hangs is aborted (its AbortSignal fires) and counts as a
 * failure. After `breakerFailures` consecutive failures the circuit opens, and calls fail at once
 * without reaching the provider. Once `breakerResetMs` has passed, the next call is a trial, and
 * its success closes the circuit again.
 *
 * The breaker only moves from open to half-open when a call arrives, so `states()` may still
 * report `open` after the reset time has passed.
 */
export class ProviderBreakers {
  private readonly entries = new Map<AiProviderName, BreakerEntry>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly logger: Logger,
    private readonly onStateChange?: (provider: AiProviderName, state: BreakerStateName) => void,
  ) {}

  /**
   * Runs one provider call through the provider's breaker and timeout. Rejects with
   * CircuitOpenError while the circuit is open and with AiProviderError (kind `timeout`) when the
   * call takes longer than `timeoutMs`; other errors pass through unchanged.
   */
  async execute<T>(provider: AiProviderName, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const entry = this.entryFor(provider);
    try {
      return await entry.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) throw new CircuitOpenError(provider);
      // cockatiel 3.2.1's isTaskCancelledError() tests for the wrong marker property, so the class is checked.
      if (error instanceof TaskCancelledError) {
        throw new AiProviderError({
          provider,
          kind: 'timeout',
          message: `The call to ${provider} timed out after ${this.settings.timeoutMs} ms.`,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Returns the state of every breaker created so far, for `/readyz` and the metrics gauge. */
  states(): Record<string, BreakerStateName> {
    return Object.fromEntries([...this.entries].map(([provider, entry]) => [provider, entry.state]));
  }

  /** Creates the provider's breaker now, so `states()` lists it before the first call. */
  register(provider: AiProviderName): void {
    this.entryFor(provider);
  }

  private entryFor(provider: AiProviderName): BreakerEntry {
    const existing = this.entries.get(provider);
    if (existing !== undefined) return existing;

    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: this.settings.breakerResetMs,
      breaker: new ConsecutiveBreaker(this.settings.breakerFailures),
    });
    const policy = wrap(breaker, timeout(this.settings.timeoutMs, TimeoutStrategy.Aggressive));
    const entry: BreakerEntry = { breaker, policy, state: 'closed' };

    breaker.onStateChange((circuitState) => {
      entry.state = stateName(circuitState);
      const fields = { provider, state: entry.state, failuresToOpen: this.settings.breakerFailures, resetMs: this.settings.breakerResetMs };
      if (entry.state === 'open') this.logger.warn(fields, 'circuit breaker state changed');
      else this.logger.info(fields, 'circuit breaker state changed');
      this.onStateChange?.(provider, entry.state);
    });

    this.entries.set(provider, entry);
    this.onStateChange?.(provider, entry.state);
    return entry;
  }
}

function stateName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    case CircuitState.Open:
    case CircuitState.Isolated:
      return 'open';
  }
}
