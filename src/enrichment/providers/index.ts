import type { Config } from '../../config/config.js';
import type { Logger } from '../../logger.js';
import { EnrichmentSetupError } from '../errors.js';
import type { AiProvider } from '../types.js';
import { createGeminiProvider } from './gemini.js';
import { createManusProvider } from './manus.js';
import { createOpenAiProvider } from './openai.js';

export { createGeminiProvider, type GeminiSettings } from './gemini.js';
export { createManusProvider, type ManusSettings } from './manus.js';
export { createOpenAiProvider, type OpenAiSettings } from './openai.js';

/**
 * Creates the provider that `AI_PROVIDER` selects, or null for `none`. `loadConfig` has already
 * checked that the selected provider's key and model are set; this throws EnrichmentSetupError if
 * a hand-built configuration skipped that check.
 */
export function createProviderFromConfig(ai: Config['ai'], logger: Logger): AiProvider | null {
  switch (ai.provider) {
    case 'none':
      return null;
    case 'gemini':
      return createGeminiProvider({
        apiKey: required(ai.gemini.apiKey, 'GEMINI_API_KEY'),
        model: required(ai.gemini.model, 'GEMINI_MODEL'),
        baseUrl: ai.gemini.baseUrl,
        timeoutMs: ai.timeoutMs,
      });
    case 'openai':
      return createOpenAiProvider({
        apiKey: ai.openai.apiKey,
        model: required(ai.openai.model, 'OPENAI_MODEL'),
        baseUrl: ai.openai.baseUrl,
        timeoutMs: ai.timeoutMs,
      });
    case 'manus':
      return createManusProvider({
        apiKey: required(ai.manus.apiKey, 'MANUS_API_KEY'),
        baseUrl: ai.manus.baseUrl,
        agentProfile: ai.manus.agentProfile,
        logger: logger.child({ component: 'enrichment', provider: 'manus' }),
      });
  }
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') {
    throw new EnrichmentSetupError(`${name} is missing; set it to use the configured AI provider.`);
  }
  return value;
}
