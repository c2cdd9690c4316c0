import type { ModelTimings, ModelUsage, UserplugWarning } from '@userplug/core';

/** Prices of one model, in US dollars per million tokens. Each adapter keeps its own table of them. */
export interface ModelPrice {
  /** Uncached input tokens. */
  input: number;
  /** Output tokens, reasoning included. */
  output: number;
  /** Input tokens read from the prompt cache. Default: `input`. */
  cachedInput?: number;
  /** Input tokens written to the prompt cache. Default: `input`. */
  cacheWrite?: number;
}

/** Token counts a provider reported, in one vocabulary. */
export interface ReportedUsage {
  /** All input tokens: uncached, cached and cache-written ones. */
  inputTokens: number;
  /** Output tokens, reasoning included. */
  outputTokens: number;
  /** Input tokens read from the prompt cache. */
  cachedInputTokens: number;
  /** Input tokens written to the prompt cache; undefined where the provider reports none. */
  cacheWriteTokens: number | undefined;
}

/** The persona side of the accounting: what was sent and who counted it. */
export interface PersonaAccount {
  /** Tokens of the persona sent, as the model counts them. */
  personaTokens: number;
  /** Who counted them. */
  personaTokenizer: string;
  /** The persona budget held to. */
  budget: number;
}

/** Cost in US dollars: uncached input, cache reads, cache writes and output, each at its price. */
export function costInUsd(price: ModelPrice, usage: ReportedUsage): number {
  const cacheWrites = usage.cacheWriteTokens ?? 0;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - cacheWrites);
  return (
    (uncached * price.input +
      usage.cachedInputTokens * (price.cachedInput ?? price.input) +
      cacheWrites * (price.cacheWrite ?? price.input) +
      usage.outputTokens * price.output) /
    1_000_000
  );
}

/** The price of `modelId` in `prices`: its own entry, else the entry of the id with `suffix` (a snapshot date) removed. */
export function findModelPrice<Price>(
  modelId: string,
  prices: Readonly<Record<string, Price>>,
  suffix: RegExp,
): Price | undefined {
  return prices[modelId] ?? prices[modelId.replace(suffix, '')];
}

/**
 * The usage of a hosted call, with its cost from `price`. Pushes an `unknown-price` warning when no price is
 * known and a `missing-usage` one when the provider reported no token counts.
 */
export function hostedModelUsage(options: {
  persona: PersonaAccount;
  reported: ReportedUsage | undefined;
  price: ModelPrice | undefined;
  vendor: string;
  modelId: string;
  warnings: UserplugWarning[];
}): ModelUsage {
  const { reported, price } = options;
  if (!price) {
    options.warnings.push({
      type: 'unknown-price',
      model: options.modelId,
      message: `No price is known for model "${options.modelId}": usage.costUsd is undefined. Pass \`prices\` to the adapter to compute it.`,
    });
  }
  if (!reported) {
    options.warnings.push({
      type: 'missing-usage',
      message: `${options.vendor} reported no token usage for this call: token counts and cost are undefined.`,
    });
  }
  return {
    personaTokens: options.persona.personaTokens,
    personaTokenizer: options.persona.personaTokenizer,
    budget: options.persona.budget,
    inputTokens: reported?.inputTokens,
    outputTokens: reported?.outputTokens,
    totalTokens: reported ? reported.inputTokens + reported.outputTokens : undefined,
    cachedInputTokens: reported?.cachedInputTokens,
    cacheWriteTokens: reported?.cacheWriteTokens,
    costUsd: price && reported ? costInUsd(price, reported) : undefined,
  };
}

/** Clock readings of one call, in milliseconds from any origin. */
export interface CallClock {
  /** When the call started. */
  startedAt: number;
  /** When the first text arrived, if any did. */
  firstTextAt: number | undefined;
  /** When the call finished. */
  finishedAt: number;
  /** Output tokens, when known. */
  outputTokens: number | undefined;
  /** Whether the text arrived as it was generated (a stream), so that a generation speed can be measured. */
  streamed: boolean;
}

/** Timings from clock readings: time to first text, duration and, for a stream, output tokens per second. */
export function modelTimings(clock: CallClock): ModelTimings {
  const { firstTextAt, finishedAt, outputTokens } = clock;
  const decodeSeconds = firstTextAt === undefined ? 0 : (finishedAt - firstTextAt) / 1000;
  return {
    timeToFirstTokenMs: firstTextAt === undefined ? undefined : firstTextAt - clock.startedAt,
    durationMs: finishedAt - clock.startedAt,
    outputTokensPerSecond:
      clock.streamed && outputTokens !== undefined && outputTokens > 1 && decodeSeconds > 0
        ? (outputTokens - 1) / decodeSeconds
        : undefined,
  };
}
