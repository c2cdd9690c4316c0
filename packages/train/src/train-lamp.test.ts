import { createHashingEncoder } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { classifyWithPrototypes } from './classify-with-prototypes.js';
import { evaluateLamp } from './evaluate-lamp.js';
import { createSyntheticLamp } from './synthetic-lamp.js';
import { lampClasses, trainOnLamp } from './train-lamp.js';

const encoder = createHashingEncoder({ dim: 128 });

describe('trainOnLamp', () => {
  it('trains the query side, class prototypes and soft prompts on LaMP-2-style data', async () => {
    const train = createSyntheticLamp({ task: 'LaMP_2', users: 120, seed: 1, profileSize: 12 });
    const result = await trainOnLamp({
      data: train,
      encoder,
      epochs: 3,
      seed: 3,
      backend: 'cpu',
      learningRate: 0.01,
    });
    expect(result.history[result.bestEpoch]!.validationLoss).toBeLessThan(result.history[0]!.validationLoss);
    const { artifact } = result;
    expect(artifact.objective).toBe('lamp');
    const [prototypes] = artifact.prototypes;
    expect(prototypes).toMatchObject({ name: 'LaMP_2', instruction: null });
    expect(prototypes!.labels).toHaveLength(15);
    expect(artifact.instructions[0]!.softPrompt).toHaveLength(6 * 128);
    expect(artifact.instructions[0]!.embedding).toHaveLength(128);

    const test = createSyntheticLamp({
      task: 'LaMP_2',
      users: 30,
      seed: 1,
      profileSize: 12,
      firstUser: 5000,
    });
    const voted = await evaluateLamp({ data: test, encoder, artifact, predictor: 'label-vote' });
    const classified = await evaluateLamp({ data: test, encoder, artifact, predictor: 'prototypes' });
    expect(voted.n).toBe(30);
    // Both are far above chance (1/15) on this lexical task.
    expect(voted.accuracy).toBeGreaterThan(0.3);
    expect(classified.accuracy).toBeGreaterThan(0.2);
    expect(
      classified.predictions.every((prediction) => prototypes!.labels.includes(prediction.predicted)),
    ).toBe(true);
    const probabilities = classifyWithPrototypes(new Float32Array(128).fill(0.1), artifact).probabilities;
    expect(probabilities).toHaveLength(15);
  });

  it('treats ratings as classes and reports MAE / RMSE; generation data has no prototypes', async () => {
    const train = createSyntheticLamp({ task: 'LaMP_3', users: 40, seed: 2, profileSize: 8 });
    expect(lampClasses(train)).toEqual(['1', '2', '3', '4', '5']);
    const result = await trainOnLamp({ data: train, encoder, epochs: 1, seed: 3, backend: 'cpu' });
    const evaluation = await evaluateLamp({
      data: train,
      encoder,
      artifact: result.artifact,
      predictor: 'prototypes',
    });
    // The error metrics are those of the predictions it returns, each a rating.
    expect(evaluation.n).toBe(40);
    const errors = evaluation.predictions.map((pair) => Number(pair.predicted) - Number(pair.gold));
    expect(evaluation.predictions.every((pair) => /^[1-5]$/.test(pair.predicted))).toBe(true);
    expect(evaluation.mae).toBeCloseTo(errors.reduce((sum, error) => sum + Math.abs(error), 0) / 40, 12);
    expect(evaluation.rmse).toBeCloseTo(
      Math.sqrt(errors.reduce((sum, error) => sum + error * error, 0) / 40),
      12,
    );
    const generation = {
      task: 'LaMP_7',
      examples: train.examples.map((example) => ({ ...example, output: `${example.output} ${example.id}` })),
    };
    expect(lampClasses(generation)).toBeUndefined();
    const plain = await trainOnLamp({ data: generation, encoder, epochs: 1, seed: 3, backend: 'cpu' });
    expect(plain.artifact.prototypes).toEqual([]);
    expect(plain.artifact.instructions[0]!.softPrompt).toBeUndefined();
  });
});
