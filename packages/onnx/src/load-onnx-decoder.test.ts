import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError } from '@userplug/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxDecoder, type OnnxDecoder } from './load-onnx-decoder.js';
import { buildTinyDecoder, type TinyDecoder } from './testing/build-tiny-decoder.js';

let root: string;
let tiny: TinyDecoder;
let decoder: OnnxDecoder;
const opened: OnnxDecoder[] = [];

async function open(directory: string, cacheDirectory = join(root, 'cache')): Promise<OnnxDecoder> {
  const loaded = await loadOnnxDecoder({ modelDirectory: directory, cacheDirectory, threads: 1 });
  opened.push(loaded);
  return loaded;
}

/** Logits of the original input_ids graph, run directly with onnxruntime (no userplug code). */
async function referenceLogits(modelPath: string, ids: readonly number[], keyValueHeads = 2, headDim = 8) {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const length = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (_, index) => BigInt(index)),
      [1, length],
    ),
  };
  for (const name of session.inputNames.filter((input) => input.startsWith('past_key_values'))) {
    feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, keyValueHeads, 0, headDim]);
  }
  const logits = (await session.run(feeds)).logits!.data as Float32Array;
  await session.release();
  return Float32Array.from(logits);
}

function maxDifference(left: Float32Array, right: Float32Array): number {
  expect(left.length).toBe(right.length);
  let maximum = 0;
  for (let index = 0; index < left.length; index++) {
    maximum = Math.max(maximum, Math.abs(left[index]! - right[index]!));
  }
  return maximum;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-onnx-decoder-'));
  tiny = await buildTinyDecoder({ directory: join(root, 'tiny') });
  decoder = await open(tiny.directory);
});

afterAll(async () => {
  for (const loaded of opened) await loaded.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('loadOnnxDecoder', () => {
  it('rewrites an input_ids graph to take inputs_embeds without changing logits, and caches the rewrite', async () => {
    const ids = decoder.tokenizer.encode('Hello there, plan my weekend in the mountains');
    const expected = await referenceLogits(tiny.modelPath, ids);
    const output = await decoder.forward({ embeddings: decoder.embeddings.lookup(ids), tokenIds: ids });
    expect(decoder.graph.rewritten).toBe(true);
    expect(decoder.graph.needsInputIds).toBe(true);
    expect(decoder.graph.path.startsWith(join(root, 'cache'))).toBe(true);
    expect(maxDifference(output.logits, expected)).toBeLessThan(1e-4);

    const written = (await stat(decoder.graph.path)).mtimeMs;
    const again = await open(tiny.directory);
    expect(again.graph.fromCache).toBe(true);
    expect(again.graph.path).toBe(decoder.graph.path);
    expect((await stat(again.graph.path)).mtimeMs).toBe(written);
  });

  it('drops input_ids when only the embedding Gather read it, and keeps a table the tied output head uses', async () => {
    const shapeFromEmbeds = await buildTinyDecoder({
      directory: join(root, 'embeds-shape'),
      shapeFromInputIds: false,
    });
    const loaded = await open(shapeFromEmbeds.directory);
    expect(loaded.graph.needsInputIds).toBe(false);
    const ids = loaded.tokenizer.encode('What should I cook tonight?');
    const expected = await referenceLogits(shapeFromEmbeds.modelPath, ids);
    const output = await loaded.forward({ embeddings: loaded.embeddings.lookup(ids) });
    expect(maxDifference(output.logits, expected)).toBeLessThan(1e-4);
  });

  it('rewrites a model whose weights are in an external data file', async () => {
    const external = await buildTinyDecoder({ directory: join(root, 'external'), externalData: true });
    expect(existsSync(`${external.modelPath}_data`)).toBe(true);
    const loaded = await open(external.directory);
    const ids = loaded.tokenizer.encode('Booked a trip to Japan');
    const expected = await referenceLogits(tiny.modelPath, ids);
    const output = await loaded.forward({ embeddings: loaded.embeddings.lookup(ids), tokenIds: ids });
    expect(maxDifference(output.logits, expected)).toBeLessThan(1e-4);
  });

  it('runs an inputs_embeds graph with the table from embed_tokens.onnx: equal to the input_ids path', async () => {
    const variant = await buildTinyDecoder({
      directory: join(root, 'inputs-embeds'),
      variant: 'inputs-embeds',
    });
    const loaded = await open(variant.directory);
    expect(loaded.graph.rewritten).toBe(false);
    const ids = loaded.tokenizer.encode('I love coffee in the morning');
    const viaEmbeds = await loaded.forward({ embeddings: loaded.embeddings.lookup(ids) });
    const viaIds = await referenceLogits(tiny.modelPath, ids);
    expect(maxDifference(viaEmbeds.logits, viaIds)).toBeLessThan(1e-4);
    expect(Array.from(loaded.embeddings.lookup([5]))).toEqual(
      Array.from(tiny.embeddingTable.subarray(5 * 32, 6 * 32)),
    );
  });

  it('gives the same logits with the KV cache as with full recomputation', async () => {
    const ids = decoder.tokenizer.encode('The user likes hiking and trail running on weekends.');
    const full = await decoder.forward({ embeddings: decoder.embeddings.lookup(ids), tokenIds: ids });
    const vocab = full.vocabSize;
    const split = ids.length - 4;
    const head = ids.slice(0, split);
    const prefix = await decoder.forward({
      embeddings: decoder.embeddings.lookup(head),
      tokenIds: head,
      chunkSize: 3,
    });
    expect(prefix.cache.length).toBe(split);
    expect(maxDifference(prefix.logits, full.logits.subarray(0, split * vocab))).toBeLessThan(1e-4);
    let cache = prefix.cache;
    for (let position = split; position < ids.length; position++) {
      const id = ids[position]!;
      const step = await decoder.forward({
        embeddings: decoder.embeddings.lookup([id]),
        tokenIds: [id],
        cache,
        logits: 'last',
      });
      expect(
        maxDifference(step.logits, full.logits.subarray(position * vocab, (position + 1) * vocab)),
      ).toBeLessThan(1e-4);
      cache = step.cache;
    }
    expect(cache.length).toBe(ids.length);
  });

  it('lets soft tokens change the next-token distribution, and takes zero vectors without failing', async () => {
    const ids = decoder.tokenizer.encode('Suggest a weekend plan for me');
    const hidden = decoder.config.hiddenSize;
    const plain = await decoder.forward({ embeddings: decoder.embeddings.lookup(ids), logits: 'last' });
    const soft = new Float32Array(2 * hidden).map(
      (_, index) => Math.sin(index) * decoder.embeddings.typicalNorm,
    );
    const withSoft = new Float32Array(soft.length + ids.length * hidden);
    withSoft.set(soft);
    withSoft.set(decoder.embeddings.lookup(ids), soft.length);
    const steered = await decoder.forward({ embeddings: withSoft, logits: 'last' });
    expect(maxDifference(steered.logits, plain.logits)).toBeGreaterThan(1e-2);

    const zeros = new Float32Array(withSoft.length);
    zeros.set(decoder.embeddings.lookup(ids), soft.length);
    const zero = await decoder.forward({ embeddings: zeros, logits: 'last' });
    expect(zero.logits.every(Number.isFinite)).toBe(true);
  });

  it('measures the typical row norm of the embedding table', () => {
    const norms: number[] = [];
    for (let row = 0; row < tiny.config.vocab_size; row++) {
      const values = tiny.embeddingTable.subarray(row * 32, (row + 1) * 32);
      norms.push(Math.hypot(...values));
    }
    norms.sort((left, right) => left - right);
    expect(decoder.embeddings.typicalNorm).toBeCloseTo(norms[Math.floor(norms.length / 2)]!, 4);
  });

  it('names the missing file and the setting to change', async () => {
    const missing = loadOnnxDecoder({ modelDirectory: join(root, 'nowhere') });
    await expect(missing).rejects.toSatisfy(FileFormatError.isInstance);
    await expect(missing).rejects.toThrow(/does not exist.*modelDirectory/);
    await expect(
      loadOnnxDecoder({ modelDirectory: tiny.directory, modelFile: 'onnx/model_q4.onnx' }),
    ).rejects.toThrow(/onnx\/model_q4\.onnx.*`modelFile`/);
  });

  it('explains a decoder that takes inputs_embeds but has no embedding table', async () => {
    const variant = await buildTinyDecoder({ directory: join(root, 'no-table'), variant: 'inputs-embeds' });
    await rm(variant.embedTokensPath!);
    await expect(open(variant.directory)).rejects.toThrow(/no embedding table.*embed_tokens\.onnx/);
  });
});
