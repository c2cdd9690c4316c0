import { describe, expect, it } from 'vitest';
import { createEstimatingTokenCounter } from './create-estimating-token-counter.js';
import { createTiktokenCounter } from './token-counter.js';
import { InvalidArgumentError } from './userplug-error.js';

const samples = [
  '<user_persona>\n- Interests: "trail running", "vegetarian"\n1. [review, 2024-05-03, rating 5] "Great ramen"\n</user_persona>',
  'Ich wandere am Wochenende gern in den Alpen und koche danach vegetarisch.',
  '週末は山でハイキングをして、夜はベジタリアン料理を作るのが好きです。',
  'Loved it 🏔️🥾🐕 10/10 would hike again 🔥🔥🔥',
];

describe('createEstimatingTokenCounter', () => {
  it('counts the larger of o200k × factor and UTF-8 bytes ÷ bytesPerToken', async () => {
    const o200k = await createTiktokenCounter();
    const estimate = await createEstimatingTokenCounter();
    expect(estimate.id).toBe('estimate(o200k_base×1.6)');
    expect(estimate.count('')).toBe(0);
    expect(samples.map((text) => o200k.count(text))).toEqual([42, 16, 27, 21]);
    // 42 × 1.6 → 68; the German sentence's 73 bytes ÷ 2.5 → 30 beat its 16 × 1.6 → 26.
    expect(samples.map((text) => estimate.count(text))).toEqual([68, 30, 44, 34]);
    const lenient = await createEstimatingTokenCounter({ factor: 1, bytesPerToken: 4 });
    expect(samples.map((text) => lenient.count(text))).toEqual([42, 19, 27, 21]);
  });

  it('truncates to the longest prefix within the limit, without broken characters', async () => {
    const estimate = await createEstimatingTokenCounter({ id: 'claude-estimate', factor: 1.3 });
    expect(estimate.id).toBe('claude-estimate');
    for (const text of samples) {
      for (const limit of [0, 1, 5, 12, 40, 500]) {
        const cut = estimate.truncate(text, limit);
        expect(estimate.count(cut)).toBeLessThanOrEqual(limit);
        expect(text.startsWith(cut)).toBe(true);
        expect(cut).not.toMatch(/[\uD800-\uDBFF]$/);
        if (cut.length < text.length) {
          // One more character would not fit (up to a whole surrogate pair).
          expect(estimate.count(text.slice(0, cut.length + 2))).toBeGreaterThan(limit);
        }
      }
      expect(estimate.truncate(text, 10_000)).toBe(text);
    }
  });

  it('rejects a factor that would under-count', async () => {
    await expect(createEstimatingTokenCounter({ factor: 0.9 })).rejects.toSatisfy(
      (error) => InvalidArgumentError.isInstance(error) && error.argument === 'factor',
    );
    await expect(createEstimatingTokenCounter({ bytesPerToken: 0 })).rejects.toThrow('bytesPerToken');
  });
});
