import { findModelPrice } from '@userplug/provider-utils';

/** Prices of one Claude model, in US dollars per million tokens. */
export interface AnthropicModelPrice {
  /** Uncached input tokens. */
  input: number;
  /** Input tokens written to the prompt cache with the default 5-minute lifetime. */
  cacheWrite: number;
  /** Input tokens read from the prompt cache. */
  cachedInput: number;
  /** Output tokens. */
  output: number;
}

/**
 * Claude API prices from platform.claude.com/docs/en/about-claude/pricing, checked 2026-11
 * (standard tier; Batch, regional and long-context premiums differ). Keys are model ids without a
 * date suffix. Claude Haiku 5.5 is missing on purpose: its price depends on each prompt's length.
 * Pass `prices` to the adapter to correct or extend the table.
 */
export const anthropicPrices: Readonly<Record<string, AnthropicModelPrice>> = {
  'claude-fable-5-1': { input: 10, cacheWrite: 12.5, cachedInput: 0.25, output: 50 },
  'claude-fable-5': { input: 10, cacheWrite: 12.5, cachedInput: 1, output: 50 },
  'claude-opus-5-5': { input: 4, cacheWrite: 5, cachedInput: 0.2, output: 20 },
  'claude-opus-5': { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 },
  'claude-opus-4-8': { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 },
  'claude-opus-4-7': { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 },
  'claude-opus-4-6': { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 },
  'claude-opus-4-5': { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 },
  'claude-opus-4-1': { input: 15, cacheWrite: 18.75, cachedInput: 1.5, output: 75 },
  'claude-opus-4-0': { input: 15, cacheWrite: 18.75, cachedInput: 1.5, output: 75 },
  'claude-opus-4': { input: 15, cacheWrite: 18.75, cachedInput: 1.5, output: 75 },
  'claude-sonnet-5-5': { input: 2, cacheWrite: 2.5, cachedInput: 0.1, output: 10 },
  'claude-sonnet-5': { input: 2, cacheWrite: 2.5, cachedInput: 0.2, output: 10 },
  'claude-sonnet-4-6': { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 },
  'claude-sonnet-4-5': { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 },
  'claude-sonnet-4-0': { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 },
  'claude-sonnet-4': { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 },
  'claude-3-7-sonnet': { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 },
  'claude-haiku-4-5': { input: 1, cacheWrite: 1.25, cachedInput: 0.1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, cacheWrite: 1, cachedInput: 0.08, output: 4 },
  'claude-3-haiku': { input: 0.25, cacheWrite: 0.3, cachedInput: 0.03, output: 1.25 },
};

/** The price of a model: exact id, or the id without its `-YYYYMMDD` snapshot date or `-latest`. */
export function findAnthropicPrice(
  model: string,
  prices: Readonly<Record<string, AnthropicModelPrice>> = anthropicPrices,
): AnthropicModelPrice | undefined {
  return findModelPrice(model, prices, /-(\d{8}|latest)$/);
}
