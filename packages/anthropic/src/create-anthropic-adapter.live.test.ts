import { createEstimatingTokenCounter, createHashingEncoder, createPersonalizer } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from './create-anthropic-adapter.js';

// Calls the real API: off unless USERPLUG_LIVE_TESTS=1 and ANTHROPIC_API_KEY are set.
const live = process.env.USERPLUG_LIVE_TESTS === '1' && Boolean(process.env.ANTHROPIC_API_KEY);
const model = process.env.USERPLUG_LIVE_ANTHROPIC_MODEL ?? 'claude-haiku-4-5';

const history = [
  { id: 'h1', kind: 'post', text: 'Adopted a beagle called Juniper; we run trails every morning.' },
  { id: 'h2', kind: 'message', text: 'I am vegetarian and I really dislike mushrooms.' },
];

async function adapter() {
  return createAnthropicAdapter({
    model,
    personalizer: createPersonalizer({
      encoder: createHashingEncoder(),
      tokenCounter: await createEstimatingTokenCounter(),
    }),
    budget: 200,
    maxOutputTokens: 200,
  });
}

describe('createAnthropicAdapter against the real Anthropic API', () => {
  it.skipIf(!live)('answers with the persona, counted by the API, and reports usage', async () => {
    const result = await (await adapter()).generate({
      userId: 'live',
      history,
      prompt: "What is my dog's name? One word.",
    });
    expect(result.text.toLowerCase()).toContain('juniper');
    expect(result.usage.personaTokenizer).toBe('anthropic-count-tokens');
    expect(result.usage.personaTokens).toBeGreaterThan(0);
    expect(result.usage.personaTokens).toBeLessThanOrEqual(200);
    expect(result.warnings).toEqual([]);
  });

  it.skipIf(!live)('streams', async () => {
    let text = '';
    for await (const chunk of (await adapter()).stream({
      userId: 'live',
      history,
      prompt: 'Name one dish I could cook.',
    })) {
      if (chunk.type === 'text-delta') text += chunk.text;
      if (chunk.type === 'finish') expect(chunk.usage.outputTokens).toBeGreaterThan(0);
    }
    expect(text.length).toBeGreaterThan(0);
  });
});
