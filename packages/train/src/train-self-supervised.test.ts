import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEstimatingTokenCounter,
  createHashingEncoder,
  createPersonalizer,
  type Encoder,
} from '@userplug/core';
import { maxPieceWordsFor, serializeTrainedArtifact } from '@userplug/core/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedHistories } from './embed-histories.js';
import { syntheticHistories } from './synthetic-histories.js';
import { TrainingAbortedError } from './train-loop.js';
import { trainSelfSupervised } from './train-self-supervised.js';
import type { EmbeddedHistory } from './training-data.js';

const encoder: Encoder = { ...createHashingEncoder({ dim: 64 }), maxInputTokens: 24 };
let histories: EmbeddedHistory[];

beforeAll(async () => {
  histories = await embedHistories({
    histories: syntheticHistories({ users: 6, items: 40, seed: 11 }),
    encoder,
  });
});

const base = () => ({
  histories,
  maxPieceWords: maxPieceWordsFor(encoder),
  epochs: 3,
  seed: 7,
  batchSize: 16,
  learningRate: 0.01,
  backend: 'cpu' as const,
});

describe('trainSelfSupervised', () => {
  it('lowers the validation loss, and writes an artifact a personalizer loads', async () => {
    const result = await trainSelfSupervised({ ...base(), epochs: 4 });
    expect(result.history).toHaveLength(5);
    expect(result.examples.train).toBeGreaterThan(150);
    expect(result.history[result.bestEpoch]!.validationLoss).toBeLessThan(result.history[0]!.validationLoss);
    const { artifact } = result;
    expect(artifact).toMatchObject({ objective: 'self-supervised', encoder: { id: encoder.id, dim: 64 } });
    expect(artifact.queryTransform?.rank).toBe(4);
    expect(Object.keys(artifact.attention.kindPriors ?? {}).sort()).toEqual(['chat', 'post', 'purchase']);
    // The no-instruction embedding is not learned without labels (it would bias every query).
    expect(artifact.instructions).toEqual([]);
    const personalizer = createPersonalizer({
      encoder,
      trained: artifact,
      tokenCounter: await createEstimatingTokenCounter(),
    });
    const persona = await personalizer.personalize({
      userId: 'u',
      prompt: 'ramen recipe',
      history: syntheticHistories({ users: 1, items: 8, seed: 99 })[0]!.items,
    });
    expect(persona.persona.attributions.length).toBeGreaterThan(0);
    await personalizer.dispose();
  });

  it('is deterministic for a seed, and different for another', async () => {
    const first = serializeTrainedArtifact((await trainSelfSupervised({ ...base(), epochs: 1 })).artifact);
    const second = serializeTrainedArtifact((await trainSelfSupervised({ ...base(), epochs: 1 })).artifact);
    const other = serializeTrainedArtifact(
      (await trainSelfSupervised({ ...base(), epochs: 1, seed: 8 })).artifact,
    );
    const strip = (json: typeof first) => ({ ...json, createdAt: undefined });
    expect(strip(second)).toEqual(strip(first));
    expect(other.queryTransform).not.toEqual(first.queryTransform);
  });

  it('resumes a stopped run from its checkpoint to the same result as an uninterrupted one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'userplug-train-'));
    const checkpointFile = join(directory, 'state.json');
    const straight = await trainSelfSupervised(base());
    const abort = new AbortController();
    const stopped = await trainSelfSupervised({
      ...base(),
      checkpointFile,
      signal: abort.signal,
      onProgress: (progress) => {
        if (progress.step === 5) abort.abort();
      },
    }).catch((error: unknown) => error);
    expect(TrainingAbortedError.isInstance(stopped)).toBe(true);
    expect((stopped as Error).message).toMatch(/after step 5.*run the same command again/);
    expect(JSON.parse(await readFile(checkpointFile, 'utf8'))).toMatchObject({ step: 5 });
    const resumed = await trainSelfSupervised({ ...base(), checkpointFile });
    expect(resumed.resumedFromStep).toBe(5);
    const strip = (result: typeof straight) => ({
      ...serializeTrainedArtifact(result.artifact),
      createdAt: undefined,
    });
    expect(strip(resumed)).toEqual(strip(straight));
    // A checkpoint of other settings is not resumed.
    const other = await trainSelfSupervised({ ...base(), epochs: 1, rank: 2, checkpointFile });
    expect(other.resumedFromStep).toBeUndefined();
  });

  it('learns scenario clusters (k-means prototypes and soft prompts) on request', async () => {
    const result = await trainSelfSupervised({ ...base(), epochs: 1, clusters: 3, softPromptTokens: 2 });
    const [clusters] = result.artifact.prototypes;
    expect(clusters).toMatchObject({
      name: 'user-clusters',
      labels: ['cluster-1', 'cluster-2', 'cluster-3'],
    });
    expect(clusters!.vectors).toHaveLength(3 * 64);
    expect(result.artifact.instructions).toHaveLength(1);
    expect(result.artifact.instructions[0]!.softPrompt).toHaveLength(2 * 64);
  });
});
