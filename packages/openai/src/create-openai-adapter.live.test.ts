import { createHashingEncoder, createPersonalizer } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { createOpenAIAdapter } from './create-openai-adapter.js';
import { createOpenAIEncoder } from './create-openai-encoder.js';

// Calls the real API: off unless USERPLUG_LIVE_TESTS=1 and OPENAI_API_KEY are set.
const live = process.env.USERPLUG_LIVE_TESTS === '1' && Boolean(process.env.OPENAI_API_KEY);
const model = process.env.USERPLUG_LIVE_OPENAI_MODEL ?? 'gpt-5.4-nano';

const history = [
  { id: 'h1', kind: 'post', text: 'Adopted a beagle called Juniper; we run trails every morning.' },
  { id: 'h2', kind: 'message', text: 'I am vegetarian and I really dislike mushrooms.' },
];

function adapter() {
  return createOpenAIAdapter({
    model,
    personalizer: createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: 'o200k_base' }),
    budget: 200,
    maxOutputTokens: 400,
  });
}

describe('createOpenAIAdapter against the real OpenAI API', () => {
  it.skipIf(!live)('answers with the persona and reports usage', async () => {
    const result = await adapter().generate({
      userId: 'live',
      history,
      prompt: "What is my dog's name? One word.",
    });
    expect(result.text.toLowerCase()).toContain('juniper');
    expect(result.usage.personaTokens).toBeGreaterThan(0);
    expect(result.usage.inputTokens).toBeGreaterThan(result.usage.personaTokens);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it.skipIf(!live)('streams', async () => {
    let text = '';
    for await (const chunk of adapter().stream({
      userId: 'live',
      history,
      prompt: 'Name one dish I could cook. Short.',
    })) {
      if (chunk.type === 'text-delta') text += chunk.text;
      if (chunk.type === 'finish') expect(chunk.text).toBe(text);
    }
    expect(text.length).toBeGreaterThan(0);
  });

  it.skipIf(!live)(
    'embeds with text-embedding-3-small, similar texts closer than unrelated ones',
    async () => {
      const encoder = createOpenAIEncoder({ dimensions: 256 });
      const [dog, puppy, tax] = await encoder.encode([
        'I walk my dog every morning.',
        'My puppy and I go for a walk at dawn.',
        'How do I file a quarterly tax return?',
      ]);
      const dot = (left: Float32Array, right: Float32Array) =>
        left.reduce((sum, value, index) => sum + value * right[index]!, 0);
      expect(dog!.length).toBe(256);
      expect(dot(dog!, dog!)).toBeCloseTo(1, 5);
      expect(dot(dog!, puppy!)).toBeGreaterThan(dot(dog!, tax!));
    },
  );
});
