import { describe, expect, it } from 'vitest';
import { groupNearDuplicates, selectEvidence, topRows } from './select-evidence.js';

function matrix(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

describe('topRows', () => {
  it('returns the rows of the highest weights, highest first, ties by row', () => {
    expect(topRows([0.1, 0.5, 0.2, 0.5, 0], 3)).toEqual([1, 3, 2]);
    expect(topRows([0.3], 5)).toEqual([0]);
    expect(topRows([0.3, 0.1], 0)).toEqual([]);
    const many = Array.from({ length: 500 }, (_, row) => ((row * 7919) % 500) / 500);
    expect(topRows(many, 40)).toEqual(
      [...many.keys()].sort((left, right) => many[right]! - many[left]! || left - right).slice(0, 40),
    );
  });
});

describe('groupNearDuplicates', () => {
  const texts = [
    'I am allergic to peanuts, please remember that when you cook.',
    'Booked the ferry to the island for Saturday morning.',
    'I am allergic to peanuts, please remember that when you cook!',
    'i am ALLERGIC to peanuts please remember that, whenever you cook',
    'I am allergic to shellfish, please remember that when you cook.',
    'ok',
    'OK!',
  ];
  const speakers = ['Ana', 'Ana', 'Ana', 'Ana', 'Ana', 'Ana', 'Sam'];
  // Unit vectors: the peanut statements point the same way, the shellfish one a little apart.
  const vectors = matrix([
    [1, 0, 0],
    [0, 1, 0],
    [1, 0, 0],
    [0.99, 0.141, 0],
    [0.8, 0, 0.6],
    [0, 0, 1],
    [0, 0, 1],
  ]);
  const group = (rows: number[]) =>
    groupNearDuplicates(
      rows,
      (row) => ({ text: texts[row]!, speaker: speakers[row] }),
      (row) => vectors.subarray(row * 3, (row + 1) * 3),
    );

  it('merges the same statement written again by the same speaker, led by the first row', () => {
    expect(group([0, 1, 2, 3, 4, 5, 6])).toEqual([[0, 2, 3], [1], [4], [5], [6]]);
    expect(group([3, 0])).toEqual([[3, 0]]);
  });

  it('keeps statements that differ in a content word, or come from another speaker, apart', () => {
    // Shellfish vs peanuts: the content words overlap by 5 of 7 and the vectors by 0.8.
    expect(group([0, 4])).toEqual([[0], [4]]);
    expect(group([5, 6])).toEqual([[5], [6]]);
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
