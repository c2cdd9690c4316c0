import { findModelPrice } from '@userplug/provider-utils';

/** Prices of one OpenAI model, in US dollars per million tokens. */
export interface OpenAIModelPrice {
  /** Uncached input tokens. */
  input: number;
  /** Input tokens read from the prompt cache. */
  cachedInput: number;
  /** Output tokens, reasoning included. */
  output: number;
}

/**
 * Standard-tier prices from openai.com/api/pricing, checked 2026-11 (short-context rates; Batch,
 * Flex and Priority tiers differ). Keys are model ids without a date suffix. Pass `prices` to
 * the adapter to correct or extend them.
 */
export const openAIPrices: Readonly<Record<string, OpenAIModelPrice>> = {
  'gpt-5.4': { input: 2.5, cachedInput: 0.25, output: 15 },
  'gpt-5.4-mini': { input: 0.75, cachedInput: 0.075, output: 4.5 },
  'gpt-5.4-nano': { input: 0.2, cachedInput: 0.02, output: 1.25 },
  'gpt-5.2': { input: 1.75, cachedInput: 0.175, output: 14 },
  'gpt-5.1': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4 },
};

/** The price of a model: exact id, or the id without its `-YYYY-MM-DD` snapshot date. */
export function findOpenAIPrice(
  model: string,
  prices: Readonly<Record<string, OpenAIModelPrice>> = openAIPrices,
): OpenAIModelPrice | undefined {
  return findModelPrice(model, prices, /-\d{4}-\d{2}-\d{2}$/);
}
