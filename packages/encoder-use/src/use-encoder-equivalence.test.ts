import type { Encoder } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsUseEncoder } from '../bench/tfjs/create-tfjs-use-encoder.js';
import { createUseEncoder, type UseEncoder } from './create-use-encoder.js';
import { createUseTokenizer } from './create-use-tokenizer.js';
import { createVariedTexts, emptyAfterNormalization } from './varied-texts.fixture.js';

// The ONNX graph against the TF.js model it was converted from, on 1,000 varied texts. TF.js is the slow side
// (about 20 s on one core); its vectors are computed once for every test here.

const texts = createVariedTexts(1_000);
let reference: Float32Array[];
let fp32: UseEncoder;
let fp32Vectors: Float32Array[];

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index += 1) {
    dot += a[index]! * b[index]!;
    normA += a[index]! ** 2;
    normB += b[index]! ** 2;
  }
  return dot / Math.sqrt(normA * normB);
}

function quantile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

beforeAll(async () => {
  const tfjs: Encoder = createTfjsUseEncoder({ threads: 1 });
  try {
    reference = await tfjs.encode(texts);
  } finally {
    await tfjs.dispose();
  }
  fp32 = createUseEncoder({ runtime: 'onnxruntime-node' });
  fp32Vectors = await fp32.encode(texts);
}, 300_000);

afterAll(async () => {
  await fp32?.dispose();
});

describe('the ONNX graph against TF.js USE-lite', () => {
  it('covers every kind of text the fixture promises', () => {
    const tokenizer = createUseTokenizer();
    const counts = texts.map((text) => tokenizer.countTokens(text));
    expect(texts).toHaveLength(1_000);
    expect(counts.filter((count) => count > 128).length).toBeGreaterThan(30);
    expect(counts.filter((count) => count <= 12).length).toBeGreaterThan(200);
    expect(counts.filter((count) => count === 0).length).toBeGreaterThanOrEqual(
      emptyAfterNormalization.length,
    );
    expect(
      texts.filter((text) => /[\u0400-\u04ff\u0600-\u06ff\u4e00-\u9fff\u3040-\u30ff]/.test(text)).length,
    ).toBeGreaterThan(20);
    expect(texts.filter((text) => /\p{Extended_Pictographic}/u.test(text)).length).toBeGreaterThan(50);
  });

  it('gives fp32 vectors at cosine ≥ 0.9999 for every text, on onnxruntime-node', () => {
    expect(fp32.runtime).toBe('onnxruntime-node');
    expect(fp32.id).toBe('use-lite-512');
    const cosines = texts.map((_, index) => cosine(fp32Vectors[index]!, reference[index]!));
    const worst = cosines.indexOf(Math.min(...cosines));
    expect(cosines[worst], `least similar: ${JSON.stringify(texts[worst])}`).toBeGreaterThanOrEqual(0.9999);
  });

  it('gives int8 vectors close to TF.js under their own id (distribution in the README)', async () => {
    const int8 = createUseEncoder({ precision: 'int8', runtime: 'onnxruntime-node' });
    try {
      const vectors = await int8.encode(texts);
      expect(int8.id).toBe('use-lite-512-int8');
      const cosines = texts.map((_, index) => cosine(vectors[index]!, reference[index]!));
      expect(quantile(cosines, 0.5)).toBeGreaterThan(0.998);
      expect(quantile(cosines, 0.01)).toBeGreaterThan(0.99);
      expect(Math.min(...cosines)).toBeGreaterThan(0.98);
      // Quantization error is real: int8 is not the fp32 model under another name.
      expect(quantile(cosines, 0.5)).toBeLessThan(0.99995);
    } finally {
      await int8.dispose();
    }
  });

  it('gives the same fp32 vectors on the onnxruntime-web fallback', async () => {
    const web = createUseEncoder({ runtime: 'onnxruntime-web' });
    try {
      const sample = texts.slice(0, 100);
      const vectors = await web.encode(sample);
      expect(web.runtime).toBe('onnxruntime-web');
      expect(web.id).toBe(fp32.id);
      const cosines = sample.map((_, index) => cosine(vectors[index]!, fp32Vectors[index]!));
      expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await web.dispose();
    }
  });
});
