import { describe, expect, it } from 'vitest';
import { createSeededRandom } from './seeded-random.js';
import { createVectorKernel } from './vector-kernel.js';

function seeded(seed: number): () => number {
  const random = createSeededRandom(seed);
  return () => random.next() - 0.5;
}

describe('createVectorKernel', () => {
  for (const [rows, dimension, shared] of [
    [1, 4, true],
    [37, 8, false],
    // 16 and 512 run the wide kernel (four sums), 20 the narrow one.
    [3, 16, false],
    [5, 20, true],
    [501, 512, true],
    [64, 384, false],
  ] as const) {
    it(`matches plain arithmetic for ${rows}×${dimension} (${shared ? 'shared' : 'separate'} item matrix)`, () => {
      const random = seeded(rows * dimension);
      const itemRows = shared ? rows : Math.max(1, Math.floor(rows / 2));
      const kernel = createVectorKernel(rows, itemRows, dimension, shared);
      expect(kernel.simd).toBe(true);
      for (let index = 0; index < kernel.pieces.length; index++) kernel.pieces[index] = random();
      if (!shared) for (let index = 0; index < kernel.items.length; index++) kernel.items[index] = random();
      const query = Float32Array.from({ length: dimension }, random);
      const dots = kernel.pieceDots(query);
      for (let row = 0; row < rows; row++) {
        let expected = 0;
        for (let column = 0; column < dimension; column++)
          expected += kernel.pieces[row * dimension + column]! * query[column]!;
        expect(dots[row]).toBeCloseTo(expected, 4);
      }
      const full = Float32Array.from(dots);
      const other = Float32Array.from({ length: dimension }, random);
      const ranges = Int32Array.from([0, Math.min(rows, 2), Math.floor(rows / 2), rows]);
      const partial = kernel.pieceDotsInRanges(other, ranges);
      for (let row = 0; row < rows; row++) {
        const inRange = row < ranges[1]! || row >= ranges[2]!;
        let expected = full[row]!;
        if (inRange) {
          expected = 0;
          for (let column = 0; column < dimension; column++)
            expected += kernel.pieces[row * dimension + column]! * other[column]!;
        }
        expect(partial[row]).toBeCloseTo(expected, 4);
      }
      const weights = Float64Array.from({ length: itemRows }, (_, row) =>
        row % 3 === 0 ? 0 : Math.abs(random()),
      );
      const sum = kernel.weightedItemSum(weights, 0.1);
      for (let column = 0; column < dimension; column++) {
        let expected = 0;
        for (let row = 0; row < itemRows; row++) {
          if (weights[row]! > 0.1) expected += weights[row]! * kernel.items[row * dimension + column]!;
        }
        expect(sum[column]).toBeCloseTo(expected, 4);
      }
    });
  }

  it('falls back to JavaScript for dimensions SIMD lanes do not divide', () => {
    const kernel = createVectorKernel(3, 3, 5, true);
    expect(kernel.simd).toBe(false);
    kernel.pieces.set([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(kernel.pieceDots(Float32Array.from([1, 2, 3, 4, 5])))).toEqual([1, 2, 3]);
    expect(
      Array.from(kernel.pieceDotsInRanges(Float32Array.from([5, 5, 5, 5, 5]), Int32Array.of(2, 3))),
    ).toEqual([1, 2, 5]);
    expect(Array.from(kernel.weightedItemSum([0.5, 0, 2], 0))).toEqual([0.5, 0, 2, 0, 0]);
  });
});
