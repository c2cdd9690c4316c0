import type { UserplugWarning } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { costInUsd, findModelPrice, hostedModelUsage, modelTimings } from './model-usage.js';

const persona = { personaTokens: 40, personaTokenizer: 'o200k_base', budget: 300 };

describe('costInUsd', () => {
  it('prices uncached input, cache reads, cache writes and output apart', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 };
    // 1,000 input tokens: 600 read from the cache, 100 written to it, 300 uncached.
    const usage = { inputTokens: 1000, outputTokens: 50, cachedInputTokens: 600, cacheWriteTokens: 100 };
    expect(costInUsd(price, usage)).toBeCloseTo((300 * 3 + 600 * 0.3 + 100 * 3.75 + 50 * 15) / 1e6, 15);
    // Without cache prices, cached tokens cost what input does.
    expect(costInUsd({ input: 2, output: 8 }, usage)).toBeCloseTo((1000 * 2 + 50 * 8) / 1e6, 15);
  });

  it('finds a price by the id without its snapshot suffix', () => {
    const prices = { 'acme-1': { input: 1, output: 2 } };
    expect(findModelPrice('acme-1-2026-01-01', prices, /-\d{4}-\d{2}-\d{2}$/)).toEqual({
      input: 1,
      output: 2,
    });
    expect(findModelPrice('acme-2', prices, /-\d{4}-\d{2}-\d{2}$/)).toBeUndefined();
  });
});

describe('hostedModelUsage', () => {
  it('adds the reported counts and their cost to the persona accounting', () => {
    const warnings: UserplugWarning[] = [];
    const usage = hostedModelUsage({
      persona,
      reported: { inputTokens: 120, outputTokens: 9, cachedInputTokens: 64, cacheWriteTokens: undefined },
      price: { input: 0.15, cachedInput: 0.075, output: 0.6 },
      vendor: 'Acme',
      modelId: 'acme-1',
      warnings,
    });
    expect(usage).toEqual({
      ...persona,
      inputTokens: 120,
      outputTokens: 9,
      totalTokens: 129,
      cachedInputTokens: 64,
      cacheWriteTokens: undefined,
      costUsd: (56 * 0.15 + 64 * 0.075 + 9 * 0.6) / 1e6,
    });
    expect(warnings).toEqual([]);
  });

  it('warns when the price or the counts are unknown, leaving them undefined', () => {
    const warnings: UserplugWarning[] = [];
    const usage = hostedModelUsage({
      persona,
      reported: undefined,
      price: undefined,
      vendor: 'Acme',
      modelId: 'acme-9',
      warnings,
    });
    expect(usage).toMatchObject({ inputTokens: undefined, totalTokens: undefined, costUsd: undefined });
    expect(warnings).toEqual([
      {
        type: 'unknown-price',
        model: 'acme-9',
        message:
          'No price is known for model "acme-9": usage.costUsd is undefined. Pass `prices` to the adapter to compute it.',
      },
      {
        type: 'missing-usage',
        message: 'Acme reported no token usage for this call: token counts and cost are undefined.',
      },
    ]);
  });
});

describe('modelTimings', () => {
  it('measures time to first text, duration and, for a stream, output tokens per second', () => {
    expect(
      modelTimings({
        startedAt: 1000,
        firstTextAt: 1250,
        finishedAt: 3250,
        outputTokens: 41,
        streamed: true,
      }),
    ).toEqual({ timeToFirstTokenMs: 250, durationMs: 2250, outputTokensPerSecond: 20 });
    expect(
      modelTimings({ startedAt: 0, firstTextAt: 900, finishedAt: 900, outputTokens: 41, streamed: false }),
    ).toEqual({ timeToFirstTokenMs: 900, durationMs: 900, outputTokensPerSecond: undefined });
    expect(
      modelTimings({
        startedAt: 0,
        firstTextAt: undefined,
        finishedAt: 500,
        outputTokens: 0,
        streamed: true,
      }),
    ).toEqual({ timeToFirstTokenMs: undefined, durationMs: 500, outputTokensPerSecond: undefined });
  });
});
