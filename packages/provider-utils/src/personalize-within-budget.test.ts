import {
  createHashingEncoder,
  createPersonalizer,
  createTiktokenCounter,
  type HistoryItemInput,
  type TokenCounter,
} from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { personalizeWithinBudget } from './personalize-within-budget.js';

const history: HistoryItemInput[] = [
  {
    id: 'h1',
    kind: 'post',
    text: 'Hiked the ridge trail with my dog at sunrise, then pancakes at the lodge',
  },
  { id: 'h2', kind: 'review', text: 'Great vegetarian ramen, rich miso broth, friendly staff', rating: 5 },
  { id: 'h3', kind: 'purchase', text: 'Trail running shoes with a wide toe box and a rock plate' },
  { id: 'h4', kind: 'review', text: 'Noisy hotel, thin walls, would not stay again', rating: 1 },
  { id: 'h5', kind: 'message', text: 'Looking for dog-friendly cabins near snowshoe trails this winter' },
  {
    id: 'h6',
    kind: 'post',
    text: 'Signed up for the canyon half marathon in June, training four days a week',
  },
];

async function scaled(factor: number): Promise<TokenCounter> {
  const o200k = await createTiktokenCounter();
  return {
    id: `o200k×${factor}`,
    count: (text) => Math.ceil(o200k.count(text) * factor),
    truncate: (text, maxTokens) => o200k.truncate(text, Math.floor(maxTokens / factor)),
  };
}

describe('personalizeWithinBudget', () => {
  it('renders once when the personalizer counts as the model does', async () => {
    const o200k = await createTiktokenCounter();
    const personalizer = createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: o200k });
    const fitted = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', history, budget: 150 },
      { countPersonaTokens: (persona) => o200k.count(persona.text), tokenizer: 'o200k_base' },
    );
    expect(fitted).toMatchObject({ attempts: 1, budget: 150, renderBudget: 150 });
    expect(fitted.personaTokens).toBe(o200k.count(fitted.result.persona.text));
    expect(fitted.result.warnings).toEqual([]);
  });

  it('shrinks a persona the model counts as over budget, with a warning', async () => {
    const model = await scaled(2);
    const personalizer = createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: 'o200k_base' });
    const fitted = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', history, budget: 160 },
      { countPersonaTokens: (persona) => model.count(persona.text), tokenizer: model.id },
    );
    expect(fitted.attempts).toBeGreaterThan(1);
    expect(fitted.renderBudget).toBeLessThan(160);
    expect(fitted.personaTokens).toBe(model.count(fitted.result.persona.text));
    expect(fitted.personaTokens).toBeLessThanOrEqual(160);
    expect(fitted.result.persona.text).not.toBe('');
    // Shrunk two-fold, the persona still quotes the most relevant item; the re-rendering is said.
    expect(fitted.result.persona.evidence.length).toBeGreaterThan(0);
    expect(fitted.result.warnings.map((warning) => warning.type)).toEqual(['tokenizer-mismatch']);
  });

  it('says when the shrunk persona has room for no quote at all', async () => {
    const model = await scaled(4);
    const personalizer = createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: 'o200k_base' });
    const fitted = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', history, budget: 130 },
      { countPersonaTokens: (persona) => model.count(persona.text), tokenizer: model.id },
    );
    expect(fitted.personaTokens).toBeLessThanOrEqual(130);
    expect(fitted.result.persona.text).not.toBe('');
    expect(fitted.result.persona.evidence).toEqual([]);
    expect(fitted.result.warnings.map((warning) => warning.type)).toEqual([
      'persona-truncated',
      'tokenizer-mismatch',
    ]);
  });

  it('sends no persona, and says so, when nothing fits', async () => {
    const model = await scaled(50);
    const personalizer = createPersonalizer({ encoder: createHashingEncoder() });
    const fitted = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', history, budget: 100 },
      { countPersonaTokens: (persona) => model.count(persona.text), tokenizer: model.id },
    );
    expect(fitted.personaTokens).toBe(0);
    expect(fitted.result.persona.text).toBe('');
    expect(fitted.result.messages).toEqual([{ role: 'user', content: 'weekend plans' }]);
    expect(fitted.result.warnings.map((warning) => warning.type)).toContain('persona-over-budget');
  });

  it('fills the budget when the personalizer over-counts, and reuses the render budget', async () => {
    const overCounting = await scaled(1.6);
    const model = await scaled(1.05);
    const personalizer = createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: overCounting });
    const options = {
      countPersonaTokens: (persona: { text: string }) => model.count(persona.text),
      tokenizer: model.id,
    };
    const plain = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', history, budget: 200 },
      options,
    );
    const filled = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'weekend plans', budget: 200 },
      { ...options, fill: true },
    );
    expect(filled.renderBudget).toBeGreaterThan(200);
    expect(filled.personaTokens).toBeLessThanOrEqual(200);
    expect(filled.personaTokens).toBeGreaterThan(plain.personaTokens);
    expect(filled.result.warnings).toEqual([]);
    const again = await personalizeWithinBudget(
      personalizer,
      { userId: 'u', prompt: 'dinner ideas', budget: 200 },
      { ...options, renderBudget: filled.renderBudget },
    );
    expect(again.attempts).toBe(1);
    expect(again.result.persona.stableText).toBe(filled.result.persona.stableText);
  });
});
