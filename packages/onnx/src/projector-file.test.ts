import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrainedProjector,
  type ProjectorWeights,
  projectVector,
  readProjectorFile,
  writeProjectorFile,
} from './projector-file.js';

let root: string;

const weights: ProjectorWeights = {
  encoder: { id: 'test-encoder', dim: 3 },
  llm: { hiddenSize: 2, model: 'tiny' },
  activation: 'gelu',
  personaTokens: 2,
  profileTokens: 'none',
  // Two hidden units: h = gelu([x0, -x1] + [0, 1]).
  w1: Float32Array.from([1, 0, 0, 0, -1, 0]),
  b1: Float32Array.from([0, 1]),
  // Four outputs (2 tokens × 2): identity-ish.
  w2: Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]),
  b2: Float32Array.from([0, 0, 0, 0.5]),
  instruction: Float32Array.from([0.25, -0.25]),
  metadata: { steps: 10 },
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-projector-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('projector files', () => {
  it('round-trips the weights exactly', async () => {
    const path = join(root, 'nested', 'projector.json');
    await writeProjectorFile(path, weights);
    const json = JSON.parse(await readFile(path, 'utf8'));
    expect(json).toMatchObject({ format: 'userplug-projector', version: 1, encoder: weights.encoder });
    expect(json.tensors.w1.shape).toEqual([2, 3]);
    expect(await readProjectorFile(path)).toEqual(weights);
  });

  it('computes the MLP with exact GELU', () => {
    const [first, second] = projectVector(weights, Float32Array.from([1, 2, 0]));
    const gelu1 = 0.8413447;
    const geluMinus1 = -0.1586553;
    expect(first![0]).toBeCloseTo(gelu1, 5);
    expect(first![1]).toBeCloseTo(geluMinus1, 5);
    expect(second![0]).toBeCloseTo(gelu1 + geluMinus1, 5);
    expect(second![1]).toBeCloseTo(0.5, 5);
    expect(() => projectVector(weights, new Float32Array(4))).toThrow(/3-dimensional.*test-encoder/);
  });

  it('rejects malformed files with the field and the file named', async () => {
    const path = join(root, 'bad.json');
    await writeFile(path, JSON.stringify({ format: 'userplug-projector', version: 2 }));
    await expect(readProjectorFile(path)).rejects.toSatisfy(FileFormatError.isInstance);
    await expect(readProjectorFile(path)).rejects.toThrow(/bad\.json: field "version"/);
    await writeProjectorFile(path, weights);
    const json = JSON.parse(await readFile(path, 'utf8'));
    json.tensors.b2.data = Buffer.from(new Float32Array(3).buffer).toString('base64');
    await writeFile(path, JSON.stringify(json));
    await expect(readProjectorFile(path)).rejects.toThrow(/"b2".*12 bytes/);
    json.tensors.b2 = { shape: [3], data: Buffer.from(new Float32Array(3).buffer).toString('base64') };
    await writeFile(path, JSON.stringify(json));
    await expect(readProjectorFile(path)).rejects.toThrow(/b2 must be \[4\]/);
    await writeFile(path, '{not json');
    await expect(readProjectorFile(path)).rejects.toThrow(/could not be read as JSON/);
  });

  it('checks the encoder and LLM sizes and warns about another encoder of the same size', async () => {
    const factory = createTrainedProjector(weights);
    const context = { embeddings: {} as never, tokenizer: {} as never };
    expect(() => factory({ ...context, hiddenSize: 3, encoder: { id: 'test-encoder', dim: 3 } })).toThrow(
      /hidden size is 3/,
    );
    expect(() => factory({ ...context, hiddenSize: 2, encoder: { id: 'other', dim: 5 } })).toThrow(
      /5-dimensional/,
    );
    const projector = await factory({ ...context, hiddenSize: 2, encoder: { id: 'other', dim: 3 } });
    expect(projector.warnings).toEqual([
      expect.objectContaining({ type: 'compatibility', feature: 'projector-encoder' }),
    ]);
    const persona = { vector: new Float32Array(3), userVector: Float32Array.from([1, 0, 0]) } as never;
    const tokens = projector.queryTokens({ persona, instruction: undefined });
    expect(tokens).toHaveLength(3);
    expect(Array.from(tokens[0]!)).toEqual([0.25, -0.25]);
    expect(projector.profileTokens(persona)).toEqual([]);
  });
});
