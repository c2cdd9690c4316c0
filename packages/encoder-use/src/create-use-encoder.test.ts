import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderError, InvalidArgumentError } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUseEncoder, type UseEncoder } from './create-use-encoder.js';

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

describe('createUseEncoder', () => {
  let encoder: UseEncoder;
  beforeAll(() => {
    encoder = createUseEncoder({ batchSize: 4 });
  });
  afterAll(async () => {
    await encoder.dispose();
  });

  it('describes itself, and names its runtime once loaded', async () => {
    expect(encoder.id).toBe('use-lite-512');
    expect(encoder.dim).toBe(512);
    expect(encoder.maxInputTokens).toBe(128);
    expect(encoder.precision).toBe('fp32');
    expect(encoder.runtime).toBeUndefined();
    await encoder.encode(['hello']);
    expect(encoder.runtime).toBe('onnxruntime-node');
    expect(encoder.model?.path).toMatch(/use-lite-[0-9a-f]{16}-c\d+-fp32\.onnx$/);
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

  it('rejects texts that are not strings', async () => {
    await expect(encoder.encode([42 as unknown as string])).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    );
  });
});

describe('createUseEncoder life cycle', () => {
  it('fails with a clear error when encoding after dispose', async () => {
    const encoder = createUseEncoder();
    await encoder.encode([hiking]);
    await encoder.dispose();
    await expect(encoder.encode([hiking])).rejects.toThrow(/disposed/);
    await expect(encoder.encode([hiking])).rejects.toSatisfy(EncoderError.isInstance);
  });

  it('gives the same vectors whatever the batch size and thread count', async () => {
    const narrow = createUseEncoder({ batchSize: 1, threads: 1 });
    const wide = createUseEncoder({ batchSize: 64, threads: 2 });
    try {
      const [one, many] = await Promise.all([narrow.encode(mixedTexts), wide.encode(mixedTexts)]);
      for (const [index, vector] of one.entries())
        expect(maxDifference(vector, many[index]!)).toBeLessThan(1e-5);
    } finally {
      await Promise.all([narrow.dispose(), wide.dispose()]);
    }
  });
});

describe('createUseEncoder errors', () => {
  it('names the missing file and the fix when the model folder is wrong', async () => {
    const encoder = createUseEncoder({ modelDirectory: mkdtempSync(join(tmpdir(), 'userplug-use-')) });
    const failure = encoder.encode([hiking]);
    await expect(failure).rejects.toSatisfy(EncoderError.isInstance);
    await expect(failure).rejects.toThrow(/vocab\.json.*@energetic-ai\/model-embeddings-en@0\.2\.0/s);
  });

  it('rejects impossible settings', () => {
    expect(() => createUseEncoder({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createUseEncoder({ threads: 1.5 })).toThrow(/threads/);
    expect(() => createUseEncoder({ precision: 'fp16' as 'fp32' })).toThrow(/precision must be/);
    expect(() => createUseEncoder({ runtime: 'tfjs' as 'auto' })).toThrow(/runtime must be/);
  });

  it('reads precision, runtime and threads from the environment when not given', () => {
    const saved = { ...process.env };
    try {
      process.env.USERPLUG_USE_PRECISION = 'int8';
      expect(createUseEncoder().id).toBe('use-lite-512-int8');
      expect(createUseEncoder({ precision: 'fp32' }).id).toBe('use-lite-512');
      process.env.USERPLUG_USE_RUNTIME = 'wasm';
      expect(() => createUseEncoder()).toThrow(/USERPLUG_USE_RUNTIME is "wasm"; use one of auto/);
      delete process.env.USERPLUG_USE_RUNTIME;
      process.env.USERPLUG_USE_THREADS = 'two';
      expect(() => createUseEncoder()).toThrow(/threads must be a positive integer/);
    } finally {
      for (const name of ['USERPLUG_USE_PRECISION', 'USERPLUG_USE_RUNTIME', 'USERPLUG_USE_THREADS']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});
