import { createPersonalizer, type Encoder } from '@userplug/core';
import { percentile, syntheticHistory } from './bench-personalize.js';

/** Time spent on the persona text at one budget, for one user. */
export interface PersonaRenderingTime {
  /** The persona budget, in tokens. */
  budget: number;
  /** Median of `personalize()` at this budget minus the same prompt's call at budget 0 (scores only). */
  p50Milliseconds: number;
  /** 95th percentile of that difference. */
  p95Milliseconds: number;
  /** Median persona tokens. */
  tokens: number;
  /** Median items quoted. */
  quoted: number;
}

/** Settings of {@link benchPersonaRendering}. */
export interface BenchPersonaRenderingSettings {
  encoder: Encoder;
  /** Distinct texts; the user repeats them under new ids. */
  texts: readonly string[];
  /** Prompts; each is measured at every budget. */
  prompts: readonly string[];
  /** Items of the user. Default 10,000. */
  items?: number;
  /** Budgets measured. Default 300 and 2,000. */
  budgets?: readonly number[];
  /** Rounds over the prompts. Default 5. */
  rounds?: number;
}

/**
 * Persona rendering time on one warm user: for every prompt, `personalize()` at budget 0 (attention and attributions,
 * no text) and at each budget, one right after the other with the query already embedded; the rendering time is the
 * difference. Both calls are measured in the same process, so machine noise mostly cancels.
 */
export async function benchPersonaRendering(settings: BenchPersonaRenderingSettings): Promise<{
  items: number;
  results: PersonaRenderingTime[];
}> {
  const items = settings.items ?? 10_000;
  const budgets = settings.budgets ?? [300, 2_000];
  const personalizer = createPersonalizer({ encoder: settings.encoder });
  await personalizer.ingest('render-bench', syntheticHistory(items, settings.texts));
  const time = async (prompt: string, budget: number) => {
    const started = performance.now();
    const result = await personalizer.personalize({ userId: 'render-bench', prompt, budget });
    return { milliseconds: performance.now() - started, result };
  };
  const differences = new Map<number, number[]>(budgets.map((budget) => [budget, []]));
  const tokens = new Map<number, number[]>(budgets.map((budget) => [budget, []]));
  const quoted = new Map<number, number[]>(budgets.map((budget) => [budget, []]));
  for (let round = 0; round < (settings.rounds ?? 5); round++) {
    for (const prompt of settings.prompts) {
      // The first call embeds the query and warms the caches; the timed ones reuse it.
      await time(prompt, 0);
      for (const budget of budgets) {
        const base = await time(prompt, 0);
        const rendered = await time(prompt, budget);
        differences.get(budget)!.push(rendered.milliseconds - base.milliseconds);
        tokens.get(budget)!.push(rendered.result.usage.personaTokens);
        quoted.get(budget)!.push(rendered.result.persona.evidence.length);
      }
    }
  }
  await personalizer.dispose();
  return {
    items,
    results: budgets.map((budget) => ({
      budget,
      p50Milliseconds: percentile(differences.get(budget)!, 0.5),
      p95Milliseconds: percentile(differences.get(budget)!, 0.95),
      tokens: percentile(tokens.get(budget)!, 0.5),
      quoted: percentile(quoted.get(budget)!, 0.5),
    })),
  };
}
