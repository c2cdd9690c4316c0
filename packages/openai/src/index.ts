export type {
  HostedAdapter,
  HostedGenerateRequest,
  HostedGenerateResult,
  HostedStreamChunk,
  HostedUsage,
} from '@userplug/core/internal';
export { createOpenAIAdapter, type OpenAIAdapterSettings } from './create-openai-adapter.js';
export { normalizeOpenAIError, type OpenAIErrorContext } from './normalize-openai-error.js';
export { findOpenAIPrice, type OpenAIModelPrice, openAICost, openAIPrices } from './openai-prices.js';
