export { type AnthropicModelPrice, anthropicPrices, findAnthropicPrice } from './anthropic-prices.js';
export { type AnthropicAdapterSettings, createAnthropicAdapter } from './create-anthropic-adapter.js';
