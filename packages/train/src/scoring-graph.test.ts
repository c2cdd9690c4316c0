import * as tf from '@tensorflow/tfjs-core';
import {
  createEstimatingTokenCounter,
  createHashingEncoder,
  createPersonalizer,
  type Encoder,
  type TrainedArtifact,
} from '@userplug/core';
import { createSeededRandom, maxPieceWordsFor, resolveAttentionSettings } from '@userplug/core/internal';
import { describe, expect, it } from 'vitest';
import { embedHistories } from './embed-histories.js';
import { ageFeature, lexicalFeature, prepareUsers, selfSupervisedExamples } from './prepare-users.js';
import {
  buildUserTensors,
  contrastiveLoss,
  disposeUserTensors,
  personaGraph,
  prototypeLoss,
  type ScoringExample,
} from './scoring-graph.js';
import { syntheticHistories } from './synthetic-histories.js';
import { withTrainingBackend } from './training-backend.js';

const dim = 32;
// A short input limit makes multi-line items several pieces, as long sessions are with the default encoder.
const encoder: Encoder = { ...createHashingEncoder({ dim }), maxInputTokens: 20 };

function randomArtifact(kinds: string[]): TrainedArtifact {
  const random = createSeededRandom(42);
  const values = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => random.normal() * scale);
  return {
    encoder: { id: encoder.id, dim },
    objective: 'test',
    hyperParameters: {},
    attention: {
      temperature: 0.08,
      lexicalWeight: 0.2,
      recencyWeight: 0.8,
      recencyHalfLifeDays: 30,
      kindPriors: Object.fromEntries(kinds.map((kind, index) => [kind, (index - 1) * 0.3])),
      hubnessWeight: 0.8,
    },
    queryTransform: { rank: 3, u: values(dim * 3, 0.3), v: values(dim * 3, 0.3) },
    instructions: [{ instruction: null, embedding: values(dim, 0.1), softPrompt: values(4 * dim, 0.3) }],
    prototypes: [],
  };
}

function parametersOf(artifact: TrainedArtifact, kinds: string[]): Record<string, tf.Tensor> {
  const entry = artifact.instructions[0]!;
  const { attention } = artifact;
  return {
    u: tf.tensor2d(artifact.queryTransform!.u, [dim, 3]),
    v: tf.tensor2d(artifact.queryTransform!.v, [dim, 3]),
    instruction: tf.tensor1d(entry.embedding!),
    softPrompt: tf.tensor2d(entry.softPrompt!, [4, dim]),
    logTemperature: tf.scalar(Math.log(attention.temperature!)),
    lexicalWeight: tf.scalar(attention.lexicalWeight!),
    recencyWeight: tf.scalar(attention.recencyWeight!),
    logHalfLife: tf.scalar(Math.log(attention.recencyHalfLifeDays!)),
    kindPriors: tf.tensor1d(kinds.map((kind) => attention.kindPriors![kind]!)),
    hubnessWeight: tf.scalar(attention.hubnessWeight!),
  };
}

describe('the differentiable scoring graph', () => {
  it("gives core's persona vector, with and without a trained artifact", async () => {
    const [history] = syntheticHistories({ users: 1, items: 40, seed: 3 });
    const prepared = prepareUsers(await embedHistories({ histories: [history!], encoder }));
    const { index } = prepared.users[0]!;
    expect(index.pieceStart[index.items.length]).toBeGreaterThan(index.items.length);
    // Enough pieces for core to calibrate (whiten) the index: the calibrated path is the one compared.
    expect(index.calibration).toBeDefined();
    const prompt = 'what should I cook with miso and ramen this weekend';
    const [rawQuery] = await encoder.encode([prompt]);
    const visible = new Uint8Array(index.items.length).fill(1);
    const example: ScoringExample = {
      user: 0,
      query: rawQuery!,
      lexical: lexicalFeature(index, prompt, visible),
      ageDays: ageFeature(index, visible),
      visible,
      target: rawQuery!,
      targetKey: 'target',
    };
    for (const trained of [undefined, randomArtifact(prepared.kindNames)]) {
      const personalizer = createPersonalizer({
        encoder,
        // The graph is the single attention pass that training learns; feedback rescoring runs after it.
        retrieval: { feedbackWeight: 0 },
        tokenCounter: await createEstimatingTokenCounter(),
        ...(trained ? { trained } : {}),
      });
      const expected = (await personalizer.personalize({ userId: 'u', prompt, history: history!.items }))
        .persona.vector;
      await personalizer.dispose();
      const actual = await withTrainingBackend('cpu', async () => {
        const user = buildUserTensors(index, prepared.users[0]!.kindIds, prepared.kindNames.length);
        const defaults = resolveAttentionSettings();
        const untrained = {
          logTemperature: tf.scalar(Math.log(defaults.temperature)),
          lexicalWeight: tf.scalar(defaults.lexicalWeight),
          recencyWeight: tf.scalar(defaults.recencyWeight),
          logHalfLife: tf.scalar(Math.log(defaults.recencyHalfLifeDays)),
          hubnessWeight: tf.scalar(defaults.hubnessWeight),
        };
        const parameters = trained ? parametersOf(trained, prepared.kindNames) : untrained;
        const values = tf.tidy(() =>
          personaGraph(parameters, [user], [example], { piecePooling: 'top2' }).personas.dataSync(),
        );
        disposeUserTensors(user);
        tf.dispose(Object.values(parameters));
        return values;
      });
      expect(actual.length).toBe(dim);
      actual.forEach((value, column) => {
        expect(value).toBeCloseTo(expected[column]!, 4);
      });
    }
  });

  it('has gradients that match finite differences for every learned part', async () => {
    const histories = syntheticHistories({ users: 2, items: 40, seed: 5 });
    const prepared = prepareUsers(await embedHistories({ histories, encoder }));
    expect(prepared.users.every((user) => user.index.calibration !== undefined)).toBe(true);
    const examples = selfSupervisedExamples(prepared, {
      seed: 1,
      maxPieceWords: maxPieceWordsFor(encoder),
      minHistory: 4,
    }).slice(0, 8);
    examples.forEach((example, index) => {
      example.label = index % 3;
    });
    const random = createSeededRandom(9);
    const names = [
      'u',
      'v',
      'instruction',
      'softPrompt',
      'logTemperature',
      'lexicalWeight',
      'recencyWeight',
      'logHalfLife',
      'kindPriors',
      'prototypes',
      'logPrototypeTemperature',
      'hubnessWeight',
    ];
    const shapes: Record<string, number[]> = {
      u: [dim, 2],
      v: [dim, 2],
      instruction: [dim],
      softPrompt: [3, dim],
      logTemperature: [],
      lexicalWeight: [],
      recencyWeight: [],
      logHalfLife: [],
      kindPriors: [prepared.kindNames.length],
      prototypes: [3, dim],
      logPrototypeTemperature: [],
      hubnessWeight: [],
    };
    const values: Record<string, Float32Array> = Object.fromEntries(
      names.map((name) => [
        name,
        Float32Array.from({ length: shapes[name]!.reduce((a, b) => a * b, 1) }, () => random.normal() * 0.3),
      ]),
    );
    values.logTemperature = Float32Array.of(Math.log(0.1));
    values.logHalfLife = Float32Array.of(Math.log(20));
    values.logPrototypeTemperature = Float32Array.of(Math.log(0.2));
    values.hubnessWeight = Float32Array.of(0.5);
    await withTrainingBackend('cpu', async () => {
      const users = prepared.users.map((user) =>
        buildUserTensors(user.index, user.kindIds, prepared.kindNames.length),
      );
      // A wide margin keeps the (piecewise constant) false-negative mask fixed under the small steps.
      const lossOf = (parameters: Record<string, tf.Tensor>) => {
        const batch = personaGraph(parameters, users, examples, { piecePooling: 'top2' });
        const contrastive = contrastiveLoss(batch.personas, batch.examples, {
          temperature: 0.07,
          margin: 10,
        });
        return tf.add(contrastive, prototypeLoss(parameters, batch.personas, batch.examples)!) as tf.Scalar;
      };
      const evaluate = (current: Record<string, Float32Array>) =>
        tf.tidy(
          () =>
            lossOf(
              Object.fromEntries(names.map((name) => [name, tf.tensor(current[name]!, shapes[name]!)])),
            ).dataSync()[0]!,
        );
      const analytic = tf.tidy(() => {
        const { grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) =>
          lossOf(Object.fromEntries(names.map((name, position) => [name, inputs[position]!]))),
        )(names.map((name) => tf.tensor(values[name]!, shapes[name]!)));
        return grads.map((gradient) => Float32Array.from(gradient.dataSync()));
      });
      names.forEach((name, position) => {
        const gradient = analytic[position]!;
        const order = Array.from(gradient.keys()).sort(
          (left, right) => Math.abs(gradient[right]!) - Math.abs(gradient[left]!),
        );
        for (const coordinate of order.slice(0, 2)) {
          const step = 1e-2;
          const plus = { ...values, [name]: values[name]!.slice() };
          plus[name]![coordinate]! += step;
          const minus = { ...values, [name]: values[name]!.slice() };
          minus[name]![coordinate]! -= step;
          const numeric = (evaluate(plus) - evaluate(minus)) / (2 * step);
          expect(Math.abs(numeric - gradient[coordinate]!), `${name}[${coordinate}]`).toBeLessThanOrEqual(
            0.05 * Math.max(Math.abs(numeric), Math.abs(gradient[coordinate]!)) + 5e-3,
          );
        }
        expect(
          gradient.some((value) => value !== 0),
          `${name} gets a gradient`,
        ).toBe(true);
      });
      users.forEach(disposeUserTensors);
    });
  });
});
