import type { TokenCounter } from '@userplug/core';

/** Token usage of one generation, when the model reports it. */
export interface GenerateUsage {
  inputTokens: number;
  outputTokens: number;
  /** Cost in US dollars, when the adapter knows it. */
  costUsd?: number;
}

/** What a generate function may return: the text, or the text with the model's own usage. */
export interface GenerateOutput {
  text: string;
  usage?: GenerateUsage;
}

/** Any LLM: a prompt in, its answer out. Hosted adapters (`@userplug/openai`, …) provide one. */
export type Generate = (prompt: string) => Promise<string | GenerateOutput>;

/** Prices of a model in US dollars per million tokens. */
export interface ModelPricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Token and cost totals of a run. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Null when no price is known for the model. */
  costUsd: number | null;
  /** `model` when the model reported its usage, else the tokenizer that counted it, such as `o200k_base`. */
  countedBy: string;
}

/** Normalises a generate function's answer. */
export function outputOf(value: string | GenerateOutput): GenerateOutput {
  return typeof value === 'string' ? { text: value } : value;
}

/** Adds up tokens and cost over a run; counts tokens with `tokenCounter` when the model reports none. */
export function createUsageMeter(settings: {
  tokenCounter: TokenCounter;
  pricing?: ModelPricing | undefined;
}) {
  const totals = { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0, reported: 0, costKnown: true };
  return {
    /** Records one call; returns its usage. */
    add(prompt: string, output: GenerateOutput): GenerateUsage {
      const usage: GenerateUsage = output.usage ?? {
        inputTokens: settings.tokenCounter.count(prompt),
        outputTokens: settings.tokenCounter.count(output.text),
      };
      totals.calls++;
      if (output.usage) totals.reported++;
      totals.inputTokens += usage.inputTokens;
      totals.outputTokens += usage.outputTokens;
      const cost =
        usage.costUsd ??
        (settings.pricing
          ? (usage.inputTokens * settings.pricing.inputPerMillion +
              usage.outputTokens * settings.pricing.outputPerMillion) /
            1e6
          : undefined);
      if (cost === undefined) totals.costKnown = false;
      else totals.cost += cost;
      return cost === undefined ? usage : { ...usage, costUsd: cost };
    },
    totals(): UsageTotals {
      return {
        calls: totals.calls,
        inputTokens: totals.inputTokens,
        outputTokens: totals.outputTokens,
        costUsd: totals.costKnown && totals.calls > 0 ? totals.cost : totals.calls === 0 ? 0 : null,
        countedBy: totals.calls > 0 && totals.reported === totals.calls ? 'model' : settings.tokenCounter.id,
      };
    },
  };
}
