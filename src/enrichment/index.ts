/**
 * Optional AI enrichment of Stripe events: advice (a summary, a risk level, a review priority, a
 * drafted customer message) from Gemini, Manus or an OpenAI-compatible server, on its own queue
 * behind a circuit breaker. Its output is advice only and never changes business state.
 */
export { createEnrichment, type Enrichment, type EnrichmentDeps } from './create.js';
export { runAiCheck, type AiCheckResult, type AiCheckOptions } from './check.js';
export { runAiTask, pollAiTask, type AiTaskDeps, type AiTaskResult } from './run-task.js';
export { ProviderBreakers, CircuitOpenError, type BreakerSettings } from './breaker.js';
export { EnrichmentRunner, ENRICHMENT_RUNNER_DEFAULTS, type EnrichmentRunnerOptions } from './runner.js';
export type { LoadEvent, LoadedEvent, EnrichmentCallOutcome } from './process-job.js';
export { enrichmentJobId, enrichmentRequestFor, type EnrichmentQueue, type EnrichmentJob, type EnrichmentRequest } from './ports.js';
export { SqliteEnrichmentQueue } from './queue/sqlite-queue.js';
export { BullMqEnrichmentQueue, ENRICHMENT_QUEUE_NAME, type BullMqEnrichmentQueueOptions } from './queue/bullmq-queue.js';
export {
  findEnrichments,
  findEnrichment,
  recordEnrichment,
  type EnrichmentRecord,
  type LedgerEnrichmentsTable,
  type EnrichmentTables,
} from './ledger-store.js';
export { ledgerEnrichmentResults, type EnrichmentResults } from './results.js';
export { createProviderFromConfig, createGeminiProvider, createManusProvider, createOpenAiProvider } from './providers/index.js';
export { AiProviderError, EnrichmentSetupError, type AiProviderErrorKind } from './errors.js';
export { buildPrompt, type BuiltPrompt, type EnrichmentSubject } from './prompt/build.js';
export { adviceSchemas, parseAdvice, providerSchemaFor, type Advice, type AdviceFor } from './schemas.js';
export type {
  AiProvider,
  AiProviderName,
  AiTaskType,
  BreakerStateName,
  EnrichmentOutcome,
  PendingProviderTask,
  ProviderReply,
  ProviderRequest,
} from './types.js';
