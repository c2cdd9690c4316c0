import { describe, expect, it } from 'vitest';
import { createSeededRandom, mixSeed } from './seeded-random.js';

describe('createSeededRandom', () => {
  it('is mulberry32: the reference stream for seed 1, equal for equal seeds', () => {
    const random = createSeededRandom(1);
    expect([random.next(), random.next(), random.next()]).toEqual([
      0.6270739405881613, 0.002735721180215478, 0.5274470399599522,
    ]);
    const left = createSeededRandom(42);
    const right = createSeededRandom(42);
    const other = createSeededRandom(43);
    const draws = Array.from({ length: 5 }, () => left.next());
    expect(Array.from({ length: 5 }, () => right.next())).toEqual(draws);
    expect(Array.from({ length: 5 }, () => other.next())).not.toEqual(draws);
  });

  it('draws whole numbers below a count, standard normals, and permutations', () => {
    const random = createSeededRandom(3);
    const counts = [0, 0, 0];
    for (let draw = 0; draw < 3000; draw++) counts[random.below(3)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(900);
    const normals = Array.from({ length: 20_000 }, () => random.normal());
    const mean = normals.reduce((sum, value) => sum + value, 0) / normals.length;
    const variance = normals.reduce((sum, value) => sum + (value - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
    const values = [1, 2, 3, 4, 5, 6];
    expect(createSeededRandom(7).shuffle(values)).toBe(values);
    expect(values).toEqual([5, 2, 3, 4, 6, 1]);
  });
});

describe('mixSeed', () => {
  it('gives each list of parts its own seed: order and every part count', () => {
    expect(mixSeed(1, 'projector')).toBe(854615080);
    expect(mixSeed('projector', 1)).not.toBe(mixSeed(1, 'projector'));
    expect(mixSeed(1, 'projector', 0)).not.toBe(mixSeed(1, 'projector'));
    expect(mixSeed(1, 'projector')).toBe(mixSeed('1', 'projector'));
  });
});
