import { InvalidArgumentError, type TrainedArtifact } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { classifyWithPrototypes } from './classify-with-prototypes.js';

const dim = 4;

// Three orthogonal unit prototypes, so every cosine (and so every probability) is known in closed form.
function ratingArtifact(temperature: number): TrainedArtifact {
  return {
    encoder: { id: 'hashing-4', dim },
    objective: 'lamp',
    hyperParameters: { epochs: 1, seed: 1 },
    attention: {},
    instructions: [],
    prototypes: [
      {
        name: 'ratings',
        instruction: null,
        labels: ['1', '2', '3'],
        vectors: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]),
        temperature,
      },
      {
        name: 'tags',
        instruction: 'Tag the movie',
        labels: ['comedy', 'drama'],
        vectors: Float32Array.from([0, 0, 0, 1, 1, 0, 0, 0]),
        temperature,
      },
    ],
  };
}

function softmax(scores: number[]): number[] {
  const exponentials = scores.map((score) => Math.exp(score - Math.max(...scores)));
  const total = exponentials.reduce((sum, value) => sum + value, 0);
  return exponentials.map((value) => value / total);
}

describe('classifyWithPrototypes', () => {
  it('gives softmax(cosine / temperature) over the prototypes and the expected rating', () => {
    // Cosines with the three prototypes: 2/√5, 1/√5, 0 (the persona is not normalized on input).
    const persona = Float32Array.from([2, 1, 0, 0]);
    const [p1, p2, p3] = softmax([2 / Math.sqrt(5) / 0.5, 1 / Math.sqrt(5) / 0.5, 0]) as [
      number,
      number,
      number,
    ];
    const result = classifyWithPrototypes(persona, ratingArtifact(0.5));
    expect(result.name).toBe('ratings');
    expect(result.label).toBe('1');
    expect(result.probabilities.map((entry) => entry.label)).toEqual(['1', '2', '3']);
    expect(result.probabilities[0]!.probability).toBeCloseTo(p1, 6);
    expect(result.probabilities[1]!.probability).toBeCloseTo(p2, 6);
    expect(result.probabilities[2]!.probability).toBeCloseTo(p3, 6);
    expect(result.expected).toBeCloseTo(p1 + 2 * p2 + 3 * p3, 6);
    expect(Array.from(persona)).toEqual([2, 1, 0, 0]);
  });

  it('sharpens with a lower temperature and picks the nearest prototype', () => {
    const persona = { vector: Float32Array.from([0.1, 0.2, 0.9, 0]) };
    const warm = classifyWithPrototypes(persona, ratingArtifact(1));
    const cold = classifyWithPrototypes(persona, ratingArtifact(0.05));
    expect(warm.label).toBe('3');
    expect(cold.label).toBe('3');
    expect(cold.probabilities[0]!.probability).toBeGreaterThan(0.99);
    expect(warm.probabilities[0]!.probability).toBeLessThan(0.6);
  });

  it('picks a scenario by name or instruction; non-numeric labels have no expected value', () => {
    const artifact = ratingArtifact(0.1);
    const persona = Float32Array.from([0, 0, 0, 3]);
    const byName = classifyWithPrototypes(persona, artifact, { name: 'tags' });
    expect(byName.label).toBe('comedy');
    expect(byName.expected).toBeUndefined();
    expect(classifyWithPrototypes(persona, artifact, { instruction: 'Tag the movie' }).name).toBe('tags');
    expect(classifyWithPrototypes(persona, artifact, { instruction: null }).name).toBe('ratings');
  });

  it('names the scenarios it has when asked for a missing one, and refuses another dimension', () => {
    const artifact = ratingArtifact(0.1);
    expect(() => classifyWithPrototypes(new Float32Array(dim), artifact, { name: 'genres' })).toThrow(
      /no prototypes for \{"name":"genres"\} \(it has: "ratings", "tags"\)/,
    );
    const error = (() => {
      try {
        classifyWithPrototypes(new Float32Array(3), artifact);
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/3 dimensions; the artifact's prototypes have 4/);
  });
});
