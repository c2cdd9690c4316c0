import { describe, expect, it } from 'vitest';
import { selectEvidence, topRows } from './select-evidence.js';

function matrix(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

describe('topRows', () => {
  it('returns the rows of the highest weights, highest first, ties by row', () => {
    expect(topRows([0.1, 0.5, 0.2, 0.5, 0], 3)).toEqual([1, 3, 2]);
    expect(topRows([0.3], 5)).toEqual([0]);
    expect(topRows([0.3, 0.1], 0)).toEqual([]);
  });
});

describe('selectEvidence', () => {
  it('skips a near-duplicate of a chosen item', () => {
    const items = matrix([
      [1, 0, 0],
      [0.999, 0.045, 0],
      [0, 1, 0],
    ]);
    expect(selectEvidence(Float64Array.from([0.5, 0.3, 0.2]), items, 3, { limit: 2 })).toEqual([0, 2]);
  });

  it('still prefers relevant items when the attention is peaked', () => {
    // Item 0 holds almost all weight; items 1 and 2 are relevant, item 3 is novel but 0.9 less similar.
    const items = matrix([
      [1, 0, 0],
      [0.6, 0.8, 0],
      [0.6, 0, 0.8],
      [0, 0.6, 0.8],
    ]);
    const weights = Float64Array.from([0.97, 0.0149, 0.0149, 1e-8]);
    expect(selectEvidence(weights, items, 3, { limit: 3 })).toEqual([0, 1, 2]);
  });

  it('never returns items with zero weight', () => {
    const items = matrix([
      [1, 0],
      [0, 1],
    ]);
    expect(selectEvidence(Float64Array.from([1, 0]), items, 2, { limit: 2 })).toEqual([0]);
  });
});
