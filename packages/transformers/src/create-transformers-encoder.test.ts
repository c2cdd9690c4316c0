import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { createPersonalizer, type Encoder, EncoderError } from '@userplug/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The tiny-model builders live with the package that already depends on onnx-proto.
import { buildTinyBertEncoder } from '../../onnx/src/testing/build-tiny-bert.js';
import { bgeQueryInstruction, createTransformersEncoder } from './create-transformers-encoder.js';

let root: string;
let bgeDirectory: string;
let miniDirectory: string;
const encoders: Encoder[] = [];

async function encoder(settings: Parameters<typeof createTransformersEncoder>[0]): Promise<Encoder> {
  const created = await createTransformersEncoder(settings);
  encoders.push(created);
  return created;
}

const texts = [
  'I love hiking in the mountains',
  'Trekking up alpine trails is my favourite hobby',
  'tax report',
  'The quarterly tax report is due on Friday, please send it to the team before noon',
  'pasta',
];

/** Pooled, normalised vectors computed directly with onnxruntime, one text at a time (no padding). */
async function reference(directory: string, text: string, pooling: 'cls' | 'mean'): Promise<Float32Array> {
  const tokenizer = await AutoTokenizer.from_pretrained(directory, { local_files_only: true });
  const ids: number[] = tokenizer.encode(text);
  const session = await ort.InferenceSession.create(join(directory, 'onnx/model.onnx'));
  const shape = [1, ids.length];
  const output = await session.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), shape),
  });
  await session.release();
  const hidden = output.last_hidden_state!.data as Float32Array;
  const width = hidden.length / ids.length;
  const vector = new Float32Array(width);
  for (let position = 0; position < (pooling === 'cls' ? 1 : ids.length); position++) {
    for (let column = 0; column < width; column++)
      vector[column] = vector[column]! + hidden[position * width + column]!;
  }
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (const [index, value] of actual.entries())
    expect(Math.abs(value - expected[index]!)).toBeLessThan(tolerance);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-transformers-'));
  bgeDirectory = (await buildTinyBertEncoder({ directory: join(root, 'tiny-bge-small-en') })).directory;
  miniDirectory = (await buildTinyBertEncoder({ directory: join(root, 'tiny-MiniLM'), seed: 2 })).directory;
});

afterAll(async () => {
  for (const created of encoders) await created.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('createTransformersEncoder', () => {
  it('pools like the model: CLS for BGE, mean otherwise, normalised, equal to a direct onnxruntime run', async () => {
    const bge = await encoder({ model: bgeDirectory });
    const mini = await encoder({ model: miniDirectory });
    expect(bge.id).toBe('transformers:tiny-bge-small-en:cls');
    expect(mini.id).toBe('transformers:tiny-MiniLM:mean');
    expect(bge.dim).toBe(32);
    expect(bge.maxInputTokens).toBe(128);
    const [bgeVector] = await bge.encode([texts[0]!]);
    const [miniVector] = await mini.encode([texts[0]!]);
    expect(Math.hypot(...bgeVector!)).toBeCloseTo(1, 5);
    expectClose(bgeVector!, await reference(bgeDirectory, texts[0]!, 'cls'));
    expectClose(miniVector!, await reference(miniDirectory, texts[0]!, 'mean'));
  });

  it('gives each text the same vector in a padded, length-sorted batch as alone, in input order', async () => {
    for (const pooling of ['cls', 'mean'] as const) {
      const batched = await encoder({ model: miniDirectory, pooling, batchSize: 2 });
      const vectors = await batched.encode(texts);
      expect(vectors).toHaveLength(texts.length);
      for (const [index, text] of texts.entries()) {
        const [alone] = await batched.encode([text]);
        expectClose(vectors[index]!, alone!);
      }
    }
  });

  it('reads the pooling from 1_Pooling/config.json, and leaves vectors raw when asked', async () => {
    const pooled = await buildTinyBertEncoder({
      directory: join(root, 'pooled-model'),
      seed: 2,
      pooling: 'cls',
    });
    const fromConfig = await encoder({ model: pooled.directory });
    expect(fromConfig.id).toBe('transformers:pooled-model:cls');
    const raw = await encoder({ model: miniDirectory, normalize: false });
    const [vector] = await raw.encode([texts[1]!]);
    expect(Math.abs(Math.hypot(...vector!) - 1)).toBeGreaterThan(1e-3);
  });

  it("puts BGE's query instruction before queries only", async () => {
    const bge = await encoder({ model: bgeDirectory });
    const [query] = await bge.encodeQueries!(['hiking plans']);
    const [prefixed] = await bge.encode([`${bgeQueryInstruction}hiking plans`]);
    const [plain] = await bge.encode(['hiking plans']);
    expectClose(query!, prefixed!);
    expect(Array.from(query!)).not.toEqual(Array.from(plain!));
    const custom = await encoder({ model: bgeDirectory, queryPrefix: 'query: ' });
    expectClose((await custom.encodeQueries!(['x']))[0]!, (await custom.encode(['query: x']))[0]!);
    const mini = await encoder({ model: miniDirectory });
    expectClose((await mini.encodeQueries!(['x']))[0]!, (await mini.encode(['x']))[0]!);
  });

  it('finds a model id in the cache directory without any network', async () => {
    const cacheDirectory = join(root, 'hf-cache');
    await cp(bgeDirectory, join(cacheDirectory, 'Xenova', 'bge-small-en-v1.5'), { recursive: true });
    const cached = await encoder({ model: 'Xenova/bge-small-en-v1.5', cacheDirectory });
    expect(cached.id).toBe('transformers:Xenova/bge-small-en-v1.5:cls');
    expect((await cached.encode(['hello']))[0]).toHaveLength(32);
  });

  it('names the missing file and the option to change', async () => {
    const missingId = createTransformersEncoder({
      model: 'Xenova/all-MiniLM-L6-v2',
      cacheDirectory: join(root, 'empty'),
    });
    await expect(missingId).rejects.toSatisfy(EncoderError.isInstance);
    await expect(missingId).rejects.toThrow(
      /missing config\.json.*onnx\/model\.onnx.*allowRemoteModels: true/,
    );

    const partial = join(root, 'partial');
    await cp(miniDirectory, partial, { recursive: true });
    await rename(join(partial, 'onnx', 'model.onnx'), join(partial, 'onnx', 'model_quantized.onnx'));
    await expect(createTransformersEncoder({ model: partial })).rejects.toThrow(
      /partial" is missing onnx\/model\.onnx .*download the missing files into .*dtype: 'q8'/,
    );
    await expect(createTransformersEncoder({ model: partial, dtype: 'fp16' })).rejects.toThrow(
      /onnx\/model_fp16\.onnx/,
    );
  });

  it("serves as a personalizer's encoder, and refuses work after dispose", async () => {
    const bge = await createTransformersEncoder({ model: bgeDirectory });
    const personalizer = createPersonalizer({ encoder: bge });
    const result = await personalizer.personalize({
      userId: 'u',
      prompt: 'plan a hiking weekend',
      history: [
        { id: '1', text: 'I love hiking in the mountains' },
        { id: '2', text: 'The quarterly tax report is due on Friday' },
      ],
    });
    expect(result.persona.vector).toHaveLength(32);
    expect(result.persona.attributions).toHaveLength(2);
    await personalizer.dispose();
    await bge.dispose();
    await expect(bge.encode(['x'])).rejects.toThrow(/disposed/);
  });
});
