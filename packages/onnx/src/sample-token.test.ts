import { createSeededRandom } from '@userplug/core/internal';
import { describe, expect, it } from 'vitest';
import { argmax, createSampler, sampleToken } from './sample-token.js';

const logits = Float32Array.from([1, 3, 2.5, -1, 0.5]);

describe('sampleToken', () => {
  it('picks the most likely token at temperature 0', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topP: 1, random: () => 0.99 })).toBe(1);
  });

  it('repeats a sequence for the same seed', () => {
    const draw = (seed: number) => {
      const sampler = createSampler({ temperature: 1, topP: 1, seed });
      return Array.from({ length: 20 }, () => sampler.next(logits));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('samples in proportion to the softmax, and only inside the top-p nucleus', () => {
    const random = createSeededRandom(11).next;
    const counts = new Array(logits.length).fill(0);
    for (let draw = 0; draw < 4000; draw++)
      counts[sampleToken(logits, { temperature: 1, topP: 1, random })] += 1;
    const weights = Array.from(logits, Math.exp);
    const total = weights.reduce((sum, value) => sum + value, 0);
    for (const [index, count] of counts.entries())
      expect(count / 4000).toBeCloseTo(weights[index]! / total, 1);

    // Softmax ≈ [.09, .52, .32, .01, .06]: top-p 0.8 keeps tokens 1 and 2 only.
    const nucleus = new Set<number>();
    for (let draw = 0; draw < 500; draw++)
      nucleus.add(sampleToken(logits, { temperature: 1, topP: 0.8, random }));
    expect([...nucleus].sort()).toEqual([1, 2]);
    const tiny = new Set<number>();
    for (let draw = 0; draw < 100; draw++)
      tiny.add(sampleToken(logits, { temperature: 1, topP: 1e-9, random }));
    expect([...tiny]).toEqual([1]);
  });

  it('flattens the distribution with a higher temperature', () => {
    const random = createSeededRandom(2).next;
    const share = (temperature: number) => {
      let top = 0;
      for (let draw = 0; draw < 2000; draw++)
        if (sampleToken(logits, { temperature, topP: 1, random }) === 1) top += 1;
      return top / 2000;
    };
    expect(share(0.3)).toBeGreaterThan(share(3));
  });
});
