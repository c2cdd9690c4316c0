import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type Encoder, EncoderError, InvalidArgumentError } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUseEncoder } from './create-use-encoder.js';

const hiking = 'I love hiking in the mountains';
const trekking = 'Trekking up alpine trails is my favourite hobby';
const taxes = 'The quarterly tax report is due on Friday';

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < a.length; index += 1) dot += a[index]! * b[index]!;
  return dot;
}

function norm(vector: Float32Array): number {
  return Math.sqrt(cosine(vector, vector));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < a.length; index += 1)
    largest = Math.max(largest, Math.abs(a[index]! - b[index]!));
  return largest;
}

const mixedTexts = [
  'ok',
  'We booked a small hotel near the beach in Spain for the first week of August, and the kids already packed.',
  taxes,
  '',
  'My landlord finally fixed the kitchen sink after three weeks of calls.',
  hiking,
  'Coffee?',
  trekking,
  'I started learning the guitar again; my fingers hurt but the chords sound better every evening.',
];

describe('createUseEncoder on the calling thread', () => {
  let encoder: Encoder;
  beforeAll(() => {
    encoder = createUseEncoder({ threads: 1, batchSize: 4 });
  });
  afterAll(async () => {
    await encoder.dispose();
  });

  it('describes itself', () => {
    expect(encoder.id).toBe('use-lite-512');
    expect(encoder.dim).toBe(512);
    expect(encoder.maxInputTokens).toBe(128);
  });

  it('matches the sanity cosines', async () => {
    const [a, b, c] = await encoder.encode([hiking, trekking, taxes]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.65);
    expect(cosine(a!, b!)).toBeLessThan(0.77);
    expect(cosine(a!, c!)).toBeLessThan(0.2);
  });

  it('returns unit vectors in input order although it batches by length', async () => {
    const vectors = await encoder.encode(mixedTexts);
    expect(vectors).toHaveLength(mixedTexts.length);
    for (const [index, text] of mixedTexts.entries()) {
      const vector = vectors[index]!;
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(512);
      expect(Math.abs(norm(vector) - 1)).toBeLessThan(1e-5);
      const [alone] = await encoder.encode([text]);
      expect(maxDifference(vector, alone!)).toBeLessThan(1e-4);
    }
    expect(await encoder.encode([])).toEqual([]);
  });

  it('embeds empty and whitespace-only texts as one fixed unit vector', async () => {
    const [empty, blank, word] = await encoder.encode(['', ' \n\t ', 'word']);
    expect(Math.abs(norm(empty!) - 1)).toBeLessThan(1e-5);
    expect(maxDifference(empty!, blank!)).toBeLessThan(1e-6);
    expect(cosine(empty!, word!)).toBeLessThan(0.9);
  });

  it('reads only the first 128 tokens of a huge text, quickly', async () => {
    const sentence = 'We walked along the river and talked about the new project at work. ';
    const huge = sentence.repeat(20_000);
    const start = performance.now();
    const [hugeVector, shorterVector] = await encoder.encode([huge, sentence.repeat(12)]);
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(maxDifference(hugeVector!, shorterVector!)).toBeLessThan(1e-5);
  });

  it('frees every tensor it creates', async () => {
    await encoder.encode(['warm up']);
    const before = tf.memory().numTensors;
    for (let call = 0; call < 200; call += 1) await encoder.encode([`call ${call}`, 'hello there']);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects texts that are not strings', async () => {
    await expect(encoder.encode([42 as unknown as string])).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    );
  });
});

describe('createUseEncoder with worker threads', () => {
  it('gives the same vectors with 1 and 2 threads', async () => {
    const single = createUseEncoder({ threads: 1, batchSize: 2 });
    const pooled = createUseEncoder({ threads: 2, batchSize: 2 });
    try {
      const texts = [...mixedTexts, ...mixedTexts.map((text) => text.toUpperCase())];
      const [fromSingle, fromPool] = await Promise.all([single.encode(texts), pooled.encode(texts)]);
      for (const [index, vector] of fromSingle.entries()) {
        expect(maxDifference(vector, fromPool[index]!)).toBeLessThan(1e-5);
      }
      const concurrent = await Promise.all([pooled.encode([hiking]), pooled.encode([taxes, trekking])]);
      expect(maxDifference(concurrent[0][0]!, fromSingle[5]!)).toBeLessThan(1e-5);
      expect(maxDifference(concurrent[1][1]!, fromSingle[7]!)).toBeLessThan(1e-5);
    } finally {
      await Promise.all([single.dispose(), pooled.dispose()]);
    }
  });

  it('fails with a clear error when encoding after dispose', async () => {
    const encoder = createUseEncoder({ threads: 2 });
    await encoder.encode([hiking]);
    await encoder.dispose();
    await expect(encoder.encode([hiking])).rejects.toThrow(/disposed/);
    await expect(encoder.encode([hiking])).rejects.toSatisfy(EncoderError.isInstance);
  });
});

describe('createUseEncoder errors', () => {
  it('names the missing file and the fix when the model folder is wrong', async () => {
    const encoder = createUseEncoder({
      threads: 1,
      modelDirectory: mkdtempSync(join(tmpdir(), 'userplug-use-')),
    });
    const failure = encoder.encode([hiking]);
    await expect(failure).rejects.toSatisfy(EncoderError.isInstance);
    await expect(failure).rejects.toThrow(/vocab\.json.*@energetic-ai\/model-embeddings-en@0\.2\.0/s);
  });

  it('rejects impossible settings', () => {
    expect(() => createUseEncoder({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createUseEncoder({ threads: 1.5 })).toThrow(/threads/);
  });
});
