import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder } from '@userplug/core';
import { createSeededRandom } from '@userplug/core/internal';
import {
  loadOnnxDecoder,
  loadProjectorFile,
  type OnnxDecoder,
  projectVector,
  readProjectorFile,
  writeProjectorFile,
} from '@userplug/onnx';
import { buildTinyDecoder } from '@userplug/onnx/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyntheticLamp } from './synthetic-lamp.js';
import { trainOnLamp } from './train-lamp.js';
import { trainLampProjector } from './train-lamp-projector.js';
import {
  initializeProjector,
  type ProjectorExample,
  projectorLoss,
  projectorTokens,
  refineProjectorZerothOrder,
  warmStartProjector,
} from './train-projector.js';

const dim = 16;
let root: string;
let modelDirectory: string;
let decoder: OnnxDecoder;
let examples: ProjectorExample[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-projector-'));
  const tiny = await buildTinyDecoder({ directory: join(root, 'tiny') });
  modelDirectory = tiny.directory;
  decoder = await loadOnnxDecoder({
    modelDirectory: tiny.directory,
    cacheDirectory: join(root, 'cache'),
    threads: 1,
  });
  const random = createSeededRandom(3);
  examples = ['hiking in the mountains', 'pasta and coffee', 'trips to Japan', 'the beach with the dog'].map(
    (output) => ({
      persona: Float32Array.from({ length: dim }, () => random.normal() / 4),
      input: 'Suggest a weekend plan for me',
      output,
    }),
  );
});

afterAll(async () => {
  await decoder?.dispose();
});

describe('projector training', () => {
  it('lowers the tiny LM’s loss of the gold outputs with zeroth-order steps only (seeded)', async () => {
    const initial = initializeProjector({
      decoder,
      encoder: { id: 'hashing-16', dim },
      hiddenUnits: 16,
      seed: 1,
    });
    const before = await projectorLoss(decoder, initial, examples);
    const losses: number[] = [];
    const refined = await refineProjectorZerothOrder({
      decoder,
      weights: initial,
      examples,
      steps: 30,
      seed: 1,
      batchSize: 4,
      learningRate: 0.01,
      onStep: ({ loss }) => losses.push(loss),
    });
    const after = await projectorLoss(decoder, refined, examples);
    expect(losses).toHaveLength(30);
    expect(after).toBeLessThan(before - 0.1);
    // The input weights are not changed in place, and the run is deterministic.
    expect(await projectorLoss(decoder, initial, examples)).toBe(before);
    const again = await refineProjectorZerothOrder({
      decoder,
      weights: initial,
      examples,
      steps: 30,
      seed: 1,
      batchSize: 4,
      learningRate: 0.01,
    });
    expect(again.w1).toEqual(refined.w1);
  });

  it('writes @userplug/onnx’s projector file, whose tokens match what the adapter computes', async () => {
    const initial = initializeProjector({
      decoder,
      encoder: { id: 'hashing-16', dim },
      hiddenUnits: 8,
      personaTokens: 2,
      seed: 2,
    });
    const warm = await warmStartProjector({ decoder, weights: initial, examples, epochs: 3, backend: 'cpu' });
    expect(warm.w1).not.toEqual(initial.w1);
    const path = join(root, 'projector.json');
    await writeProjectorFile(path, warm);
    const read = await readProjectorFile(path);
    const ours = projectorTokens(read, examples[0]!.persona);
    const theirs = [read.instruction, ...projectVector(read, examples[0]!.persona)];
    expect(ours).toHaveLength(3);
    ours.forEach((token, row) => {
      token.forEach((value, column) => {
        expect(value).toBeCloseTo(theirs[row]![column]!, 5);
      });
    });
  });

  it('trains a projector for LaMP-format data end to end and writes a file the ONNX adapter loads', async () => {
    const encoder = createHashingEncoder({ dim });
    const data = createSyntheticLamp({ task: 'LaMP_2', users: 12, seed: 4, profileSize: 4 });
    const { artifact } = await trainOnLamp({
      data,
      encoder,
      epochs: 1,
      backend: 'cpu',
      validationFraction: 0,
    });
    const out = join(root, 'lamp.projector.json');
    const result = await trainLampProjector({
      data,
      encoder,
      artifact,
      modelDirectory,
      cacheDirectory: join(root, 'cache'),
      warmStartEpochs: 2,
      zerothOrderSteps: 4,
      hiddenUnits: 8,
      out,
    });
    const file = await readProjectorFile(out);
    expect(file.encoder).toEqual({ id: encoder.id, dim });
    // The file holds the weights it returns (the better of warm start and zeroth-order), and their losses.
    expect(file.metadata).toMatchObject({
      trainedWith: 'userplug train --objective lamp',
      examples: 12,
      loss: result.loss,
    });
    expect(Array.from(file.w1)).toEqual(Array.from(result.weights.w1));
    expect(Array.from(file.b2)).toEqual(Array.from(result.weights.b2));
    expect(typeof (await loadProjectorFile(out))).toBe('function');
  });
});
