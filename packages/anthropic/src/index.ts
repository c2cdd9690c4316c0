export type {
  HostedAdapter,
  HostedGenerateRequest,
  HostedGenerateResult,
  HostedStreamChunk,
  HostedUsage,
} from '@userplug/core/internal';
export {
  type AnthropicModelPrice,
  anthropicCost,
  anthropicPrices,
  findAnthropicPrice,
} from './anthropic-prices.js';
export { type AnthropicAdapterSettings, createAnthropicAdapter } from './create-anthropic-adapter.js';
export { type AnthropicErrorContext, normalizeAnthropicError } from './normalize-anthropic-error.js';
