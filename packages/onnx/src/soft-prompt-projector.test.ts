import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder, createPersonalizer, type Persona, type Personalizer } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxDecoder, type OnnxDecoder } from './load-onnx-decoder.js';
import { createTokenEmbeddingProjector, type ProjectorContext } from './soft-prompt-projector.js';
import { buildTinyDecoder } from './testing/build-tiny-decoder.js';

let root: string;
let decoder: OnnxDecoder;
let personalizer: Personalizer;
let context: ProjectorContext;

const history = [
  { id: '1', text: 'I love hiking in the mountains every weekend', kind: 'post' },
  { id: '2', text: 'Hiking boots review: great grip on rocky mountain trails', kind: 'review', rating: 5 },
  { id: '3', text: 'Cooked a fresh pasta with tomatoes and basil', kind: 'post' },
  { id: '4', text: 'Cooking class: fresh pasta and pizza dough', kind: 'purchase' },
];

function norm(vector: Float32Array): number {
  return Math.hypot(...vector);
}

async function personaFor(prompt: string, userId = 'u'): Promise<Persona> {
  return (await personalizer.personalize({ userId, prompt })).persona;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-projector-'));
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
  await personalizer.ingest('u', history);
  context = {
    embeddings: decoder.embeddings,
    tokenizer: decoder.tokenizer,
    hiddenSize: decoder.config.hiddenSize,
    encoder: { id: 'hashing-64', dim: 64 },
  };
});

afterAll(async () => {
  await decoder.dispose();
  await personalizer.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('createTokenEmbeddingProjector', () => {
  it('makes profile tokens that do not depend on the prompt and query tokens that do, at a typical token norm', async () => {
    const projector = await createTokenEmbeddingProjector()(context);
    const hiking = await personaFor('plan a hiking weekend in the mountains');
    const cooking = await personaFor('what pasta should I cook');
    const profileA = projector.profileTokens(hiking);
    const profileB = projector.profileTokens(cooking);
    expect(profileA).toHaveLength(2);
    expect(profileA.map((vector) => Array.from(vector))).toEqual(
      profileB.map((vector) => Array.from(vector)),
    );
    const queryA = projector.queryTokens({ persona: hiking, instruction: undefined });
    const queryB = projector.queryTokens({ persona: cooking, instruction: undefined });
    expect(queryA).toHaveLength(2);
    expect(Array.from(queryA[1]!)).not.toEqual(Array.from(queryB[1]!));
    for (const vector of [...profileA, ...queryA]) {
      expect(vector).toHaveLength(decoder.config.hiddenSize);
      expect(norm(vector)).toBeCloseTo(decoder.embeddings.typicalNorm, 3);
    }
  });

  it('makes as many tokens as asked; the first query token is the instruction', async () => {
    const persona = await personaFor('plan a hiking weekend');
    const many = await createTokenEmbeddingProjector({ profile: 3, query: 4 })(context);
    expect(many.profileTokens(persona)).toHaveLength(3);
    const tokens = many.queryTokens({ persona, instruction: undefined });
    expect(tokens).toHaveLength(4);
    const steered = many.queryTokens({ persona, instruction: 'write a product review' });
    expect(Array.from(steered[0]!)).not.toEqual(Array.from(tokens[0]!));
    expect(Array.from(steered[1]!)).toEqual(Array.from(tokens[1]!));
    const single = await createTokenEmbeddingProjector({ profile: 0, query: 1 })(context);
    expect(single.profileTokens(persona)).toEqual([]);
    expect(single.queryTokens({ persona, instruction: undefined })).toHaveLength(1);
  });

  it('makes no soft tokens for an empty persona', async () => {
    const projector = await createTokenEmbeddingProjector()(context);
    const empty = await personaFor('hello', 'nobody');
    expect(projector.profileTokens(empty)).toEqual([]);
    expect(projector.queryTokens({ persona: empty, instruction: 'x' })).toEqual([]);
  });
});
