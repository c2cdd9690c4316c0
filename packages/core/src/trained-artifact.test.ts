import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { createPersonalizer } from './create-personalizer.js';
import type { HistoryItemInput } from './history-item.js';
import { createSeededRandom } from './seeded-random.js';
import {
  loadTrainedArtifact,
  parseTrainedArtifact,
  serializeTrainedArtifact,
  type TrainedArtifact,
  transformTrainedQuery,
  writeTrainedArtifact,
} from './trained-artifact.js';
import { FileFormatError, InvalidArgumentError } from './userplug-error.js';

const dim = 64;
const encoder = createHashingEncoder({ dim });

const history: HistoryItemInput[] = [
  { id: 'a', kind: 'post', text: 'Hiked the ridge trail with my dog at sunrise', timestamp: '2024-01-01' },
  { id: 'b', kind: 'review', text: 'Great vegetarian ramen with a rich miso broth', timestamp: '2024-03-01' },
  { id: 'c', kind: 'purchase', text: 'Trail running shoes with a wide toe box', timestamp: '2024-05-01' },
  { id: 'd', kind: 'review', text: 'Noisy hotel with thin walls near the station', timestamp: '2024-07-01' },
];

function baseArtifact(overrides: Partial<TrainedArtifact> = {}): TrainedArtifact {
  return {
    encoder: { id: encoder.id, dim },
    objective: 'self-supervised',
    hyperParameters: { epochs: 1, seed: 7 },
    attention: {},
    instructions: [],
    prototypes: [],
    ...overrides,
  };
}

function seeded(seed: number): () => number {
  const random = createSeededRandom(seed);
  return () => random.next() - 0.5;
}

function randomArtifact(): TrainedArtifact {
  const random = seeded(3);
  const rank = 4;
  return baseArtifact({
    attention: { temperature: 0.08, recencyWeight: 0.2, kindPriors: { review: 0.4 } },
    queryTransform: {
      rank,
      u: Float32Array.from({ length: dim * rank }, random),
      v: Float32Array.from({ length: dim * rank }, random),
    },
    instructions: [
      {
        instruction: null,
        embedding: Float32Array.from({ length: dim }, random),
        softPrompt: Float32Array.from({ length: 3 * dim }, random),
      },
    ],
    prototypes: [
      {
        name: 'ratings',
        instruction: null,
        labels: ['1', '2', '3'],
        vectors: Float32Array.from({ length: 3 * dim }, random),
        temperature: 0.1,
      },
    ],
    metadata: { steps: 12 },
  });
}

async function rankedIds(
  settings: Parameters<typeof createPersonalizer>[0],
  prompt: string,
  instruction?: string,
) {
  const personalizer = createPersonalizer({ encoder, ...settings });
  const result = await personalizer.personalize({
    userId: 'u',
    history,
    prompt,
    maxAttributions: history.length,
    ...(instruction === undefined ? {} : { instruction }),
  });
  await personalizer.dispose();
  return result.persona;
}

describe('trained artifact', () => {
  it('round-trips through its file format, tensors bit for bit', async () => {
    const artifact = randomArtifact();
    const path = join(await mkdtemp(join(tmpdir(), 'userplug-trained-')), 'nested', 'model.json');
    await writeTrainedArtifact(path, artifact);
    const loaded = await loadTrainedArtifact(path);
    expect(loaded).toEqual(artifact);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      format: 'userplug-trained',
      version: 1,
    });
  });

  it('names the file and the tensor when a file is damaged or of another format', async () => {
    const json = serializeTrainedArtifact(randomArtifact());
    const truncated = structuredClone(json);
    truncated.queryTransform!.u.data = truncated.queryTransform!.u.data.slice(0, 40);
    expect(() => parseTrainedArtifact(truncated, 'model.json')).toThrow(
      /model.json: tensor "queryTransform.u"/,
    );
    const wrongShape = structuredClone(json);
    wrongShape.prototypes![0]!.vectors.shape = [2, dim];
    expect(() => parseTrainedArtifact(wrongShape, 'model.json')).toThrow(/prototypes.0.vectors/);
    expect(() => parseTrainedArtifact({ format: 'userplug-projector', version: 1 }, 'p.json')).toThrow(
      FileFormatError,
    );
    const directory = await mkdtemp(join(tmpdir(), 'userplug-trained-'));
    await writeFile(join(directory, 'bad.json'), '{ not json');
    await expect(loadTrainedArtifact(join(directory, 'bad.json'))).rejects.toThrow(
      /bad.json could not be read/,
    );
  });

  it('changes nothing when it learned nothing', async () => {
    const plain = await rankedIds({}, 'shoes for the trail');
    const trained = await rankedIds({ trained: baseArtifact() }, 'shoes for the trail');
    expect(trained.attributions).toEqual(plain.attributions);
    expect(trained.vector).toEqual(plain.vector);
  });

  it('applies learned attention settings; explicit settings win', async () => {
    const sharp = await rankedIds({ retrieval: { temperature: 0.01 } }, 'shoes for the trail');
    const learned = await rankedIds(
      { trained: baseArtifact({ attention: { temperature: 0.01 } }) },
      'shoes for the trail',
    );
    expect(learned.attributions).toEqual(sharp.attributions);
    const explicit = await rankedIds(
      { retrieval: { temperature: 0.05 }, trained: baseArtifact({ attention: { temperature: 0.01 } }) },
      'shoes for the trail',
    );
    const plain = await rankedIds({}, 'shoes for the trail');
    expect(explicit.attributions).toEqual(plain.attributions);
  });

  it('applies the query transform and the instruction embedding in personalize', async () => {
    // U(Vᵀq) maps any query onto the hotel review's direction: the hotel must win.
    const [hotel] = await encoder.encode([history[3]!.text]);
    const [query] = await encoder.encode(['shoes for the trail']);
    const artifact = baseArtifact({
      queryTransform: { rank: 1, u: Float32Array.from(hotel!, (value) => value * 50), v: query! },
    });
    const transformed = await rankedIds({ trained: artifact }, 'shoes for the trail');
    expect(transformed.attributions[0]!.itemId).toBe('d');

    const [ramen] = await encoder.encode([history[1]!.text]);
    const steered = baseArtifact({
      instructions: [
        { instruction: 'focus on food', embedding: Float32Array.from(ramen!, (value) => value * 20) },
      ],
    });
    const withInstruction = await rankedIds({ trained: steered }, 'shoes for the trail', 'focus on food');
    expect(withInstruction.attributions[0]!.itemId).toBe('b');
    const without = await rankedIds({ trained: steered }, 'shoes for the trail');
    expect(without.attributions[0]!.itemId).toBe('c');
  });

  it('computes q′ = normalize(q₁ + U(Vᵀq₁)) with q₁ = q + e + softPrompt(q + e)', () => {
    const artifact = randomArtifact();
    const random = seeded(11);
    const query = Float32Array.from({ length: dim }, random);
    const entry = artifact.instructions[0]!;
    const q1 = Array.from(query, (value, column) => value + entry.embedding![column]!);
    const logits = [0, 1, 2].map((token) =>
      q1.reduce((sum, value, column) => sum + value * entry.softPrompt![token * dim + column]!, 0),
    );
    const exps = logits.map((logit) => Math.exp(logit - Math.max(...logits)));
    const total = exps.reduce((sum, value) => sum + value, 0);
    const q2 = q1.map(
      (value, column) =>
        value +
        [0, 1, 2].reduce(
          (sum, token) => sum + (exps[token]! / total) * entry.softPrompt![token * dim + column]!,
          0,
        ),
    );
    const { u, v, rank } = artifact.queryTransform!;
    const projected = Array.from({ length: rank }, (_, k) =>
      q2.reduce((sum, value, row) => sum + v[row * rank + k]! * value, 0),
    );
    const q3 = q2.map(
      (value, row) => value + projected.reduce((sum, p, k) => sum + u[row * rank + k]! * p, 0),
    );
    const norm = Math.hypot(...q3);
    const expected = q3.map((value) => value / norm);
    const actual = transformTrainedQuery(artifact, query, undefined);
    actual.forEach((value, index) => {
      expect(value).toBeCloseTo(expected[index]!, 5);
    });
    expect(Array.from(query)).toEqual(Array.from(Float32Array.from({ length: dim }, seeded(11))));
  });

  it('refuses an artifact trained with another encoder, naming both and the fix', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'userplug-trained-')), 'model.json');
    await writeTrainedArtifact(path, baseArtifact({ encoder: { id: 'use-lite-512', dim: 512 } }));
    const personalizer = createPersonalizer({ encoder, trained: path });
    const error = await personalizer
      .personalize({ userId: 'u', history, prompt: 'hello' })
      .catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /trained with encoder "use-lite-512" \(512 dimensions\), this personalizer uses "hashing-64" \(64 dimensions\).*train again/,
    );
    await personalizer.dispose();
  });
});
