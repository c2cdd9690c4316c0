export { createOpenAIAdapter, type OpenAIAdapterSettings } from './create-openai-adapter.js';
export type { OpenAIConnectionSettings } from './create-openai-client-loader.js';
export { createOpenAIEncoder, type OpenAIEncoderSettings } from './create-openai-encoder.js';
export { findOpenAIPrice, type OpenAIModelPrice, openAIPrices } from './openai-prices.js';
