import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder, createPersonalizer, type Persona, type Personalizer } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPersonaSequence, type SequenceSegment, toSequenceInput } from './build-persona-sequence.js';
import type { ChatTokenizer } from './chat-tokenizer.js';
import { loadOnnxDecoder, type OnnxDecoder } from './load-onnx-decoder.js';
import { buildTinyDecoder } from './testing/build-tiny-decoder.js';

let root: string;
let decoder: OnnxDecoder;
let personalizer: Personalizer;
const soft = (count: number, value: number) =>
  Array.from({ length: count }, () => new Float32Array(32).fill(value));

function text(tokenizer: ChatTokenizer, segments: readonly SequenceSegment[]): string {
  return segments
    .map((segment) =>
      segment.kind === 'tokens'
        ? tokenizer.decode(segment.ids)
        : `<soft:${segment.role}×${segment.vectors.length}>`,
    )
    .join('');
}

async function persona(prompt: string): Promise<Persona> {
  return (await personalizer.personalize({ userId: 'u', prompt })).persona;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-sequence-'));
  const tiny = await buildTinyDecoder({ directory: join(root, 'tiny') });
  decoder = await loadOnnxDecoder({
    modelDirectory: tiny.directory,
    cacheDirectory: join(root, 'cache'),
    threads: 1,
  });
  personalizer = createPersonalizer({
    encoder: createHashingEncoder({ dim: 64 }),
    tokenCounter: decoder.tokenizer.tokenCounter,
  });
  await personalizer.ingest('u', [
    { id: '1', text: 'I love hiking in the mountains every weekend' },
    { id: '2', text: 'Hiking boots with great grip on rocky mountain trails' },
    { id: '3', text: 'Cooked fresh pasta with tomatoes and basil' },
  ]);
});

afterAll(async () => {
  await decoder.dispose();
  await personalizer.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('buildPersonaSequence', () => {
  it('puts the template head, system prompt, profile tokens and stable persona in a prefix equal for every prompt', async () => {
    const build = async (prompt: string) =>
      buildPersonaSequence({
        tokenizer: decoder.tokenizer,
        system: 'Be brief.',
        persona: await persona(prompt),
        personaText: 'stable',
        prompt,
        profileVectors: soft(2, 1),
        queryVectors: soft(2, 2),
      });
    const first = await build('plan a hiking weekend');
    const second = await build('what should I cook');
    expect(first.prefix).toEqual(second.prefix);
    const prefixText = text(decoder.tokenizer, first.prefix);
    expect(prefixText).toMatch(/^system\nBe brief\.\n\n<soft:profile×2>\n\n<user_persona>\n/);
    expect(prefixText).toMatch(/<\/user_persona>\nuser\n$/);
    expect(text(decoder.tokenizer, first.suffix)).toBe('<soft:query×2>plan a hiking weekend\nassistant\n');
    expect(first.renderedText).toContain('[[userplug-query-');
    expect(`${prefixText}${text(decoder.tokenizer, first.suffix)}`).not.toContain('userplug');
    const input = toSequenceInput([...first.prefix, ...first.suffix], decoder.embeddings, 0);
    expect(input.softPositions).toBe(4);
    expect(input.tokenIds).toHaveLength(input.positions);
    expect(input.embeddings).toHaveLength(input.positions * 32);
  });

  it('puts the whole persona before the prompt with personaText "full", outside the prefix', async () => {
    const prompt = 'plan a hiking weekend';
    const sequence = buildPersonaSequence({
      tokenizer: decoder.tokenizer,
      system: undefined,
      persona: await persona(prompt),
      personaText: 'full',
      prompt,
      profileVectors: [],
      queryVectors: soft(1, 1),
    });
    // No system message: the template adds its default one.
    expect(text(decoder.tokenizer, sequence.prefix)).toBe('system\nYou are a helpful assistant.\nuser\n');
    expect(text(decoder.tokenizer, sequence.suffix)).toMatch(
      /^<soft:query×1><user_persona>\n[\s\S]*<\/user_persona>\n\nplan a hiking weekend\nassistant\n$/,
    );
  });

  it('opens the user turn with the system text when the template refuses a system role', async () => {
    const strict: ChatTokenizer = {
      ...decoder.tokenizer,
      renderChat(messages) {
        if (messages.some((message) => message.role === 'system'))
          throw new Error('System role not supported');
        return decoder.tokenizer.renderChat(messages);
      },
    };
    const sequence = buildPersonaSequence({
      tokenizer: strict,
      system: 'Be brief.',
      persona: await persona('hi'),
      personaText: 'none',
      prompt: 'hi',
      profileVectors: soft(1, 1),
      queryVectors: soft(1, 2),
    });
    expect(sequence.warnings).toEqual([
      expect.objectContaining({ type: 'compatibility', feature: 'system-role' }),
    ]);
    expect(text(strict, sequence.prefix)).toBe(
      'system\nYou are a helpful assistant.\nuser\nBe brief.\n\n<soft:profile×1>\n\n',
    );
    expect(text(strict, sequence.suffix)).toBe('<soft:query×1>hi\nassistant\n');
  });

  it('places earlier turns between the system message and the prompt, after the cache boundary', async () => {
    const sequence = buildPersonaSequence({
      tokenizer: decoder.tokenizer,
      system: 'Be brief.',
      persona: await persona('hi'),
      personaText: 'none',
      prompt: 'and tomorrow?',
      messages: [
        { role: 'user', content: 'weather today?' },
        { role: 'assistant', content: 'Sunny.' },
      ],
      profileVectors: soft(1, 1),
      queryVectors: soft(1, 2),
    });
    // The prefix is the one a prompt without earlier turns has: reused from one turn of the chat to the next.
    expect(text(decoder.tokenizer, sequence.prefix)).toBe('system\nBe brief.\n\n<soft:profile×1>\nuser\n');
    expect(text(decoder.tokenizer, sequence.suffix)).toBe(
      'weather today?\nassistant\nSunny.\nuser\n<soft:query×1>and tomorrow?\nassistant\n',
    );
  });
});
