import { describe, expect, it } from 'vitest';
import { createSeededRandom } from './seeded-random.js';
import { createQuantizedVectorKernel, createVectorKernel } from './vector-kernel.js';

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

  it('gives the same rows through the row accessors as through the matrices', () => {
    const kernel = createVectorKernel(2, 2, 8, false);
    kernel.setPieceRow(
      1,
      Float32Array.from({ length: 16 }, (_, index) => index),
      8,
    );
    kernel.setItemRow(0, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(Array.from(kernel.pieces.subarray(8))).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(Array.from(kernel.pieceRow(1))).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(Array.from(kernel.itemRow(0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(kernel.byteLength).toBe(2 * 2 * 8 * 4);
  });
});

function unitRows(random: () => number, rows: number, dimension: number): Float32Array {
  const matrix = Float32Array.from({ length: rows * dimension }, random);
  for (let row = 0; row < rows; row++) {
    let norm = 0;
    for (let column = 0; column < dimension; column++) norm += matrix[row * dimension + column]! ** 2;
    for (let column = 0; column < dimension; column++) matrix[row * dimension + column]! /= Math.sqrt(norm);
  }
  return matrix;
}

describe('createQuantizedVectorKernel', () => {
  for (const [rows, dimension, shared] of [
    [1, 32, true],
    [101, 512, true],
    [40, 384, false],
    // Not a multiple of 32: the JavaScript fallback.
    [17, 20, false],
  ] as const) {
    it(`matches float arithmetic on the dequantized rows for ${rows}×${dimension} (${shared ? 'shared' : 'separate'} items)`, () => {
      const random = seeded(rows + dimension);
      const itemRows = shared ? rows : Math.max(1, Math.floor(rows / 2));
      const kernel = createQuantizedVectorKernel(rows, itemRows, dimension, shared);
      expect(kernel.simd).toBe(dimension % 32 === 0);
      expect(kernel.precision).toBe('int8');
      const pieces = unitRows(random, rows, dimension);
      const items = unitRows(random, itemRows, dimension);
      for (let row = 0; row < rows; row++) kernel.setPieceRow(row, pieces, row * dimension);
      if (!shared) for (let row = 0; row < itemRows; row++) kernel.setItemRow(row, items, row * dimension);
      // int8 codes with one scale per row: every number within half a step of the original.
      for (let row = 0; row < rows; row++) {
        const restored = kernel.pieceRow(row);
        let largest = 0;
        for (let column = 0; column < dimension; column++)
          largest = Math.max(largest, Math.abs(pieces[row * dimension + column]!));
        for (let column = 0; column < dimension; column++)
          expect(Math.abs(restored[column]! - pieces[row * dimension + column]!)).toBeLessThanOrEqual(
            largest / 254 + 1e-7,
          );
      }
      const query = unitRows(random, 1, dimension);
      const dots = Float32Array.from(kernel.pieceDots(query));
      let worstExact = 0;
      for (let row = 0; row < rows; row++) {
        const restored = kernel.pieceRow(row);
        let onRows = 0;
        let exact = 0;
        for (let column = 0; column < dimension; column++) {
          onRows += restored[column]! * query[column]!;
          exact += pieces[row * dimension + column]! * query[column]!;
        }
        // Only the int16 query adds error on top of the stored rows.
        expect(Math.abs(dots[row]! - onRows)).toBeLessThan(2e-4);
        worstExact = Math.max(worstExact, Math.abs(dots[row]! - exact));
      }
      expect(worstExact).toBeLessThan(0.01);
      const ranges = Int32Array.from([0, Math.min(rows, 2), Math.floor(rows / 2), rows]);
      const other = unitRows(random, 1, dimension);
      const partial = kernel.pieceDotsInRanges(other, ranges);
      for (let row = 0; row < rows; row++) {
        const inRange = row < ranges[1]! || row >= ranges[2]!;
        const restored = kernel.pieceRow(row);
        let expected = dots[row]!;
        if (inRange) {
          expected = 0;
          for (let column = 0; column < dimension; column++) expected += restored[column]! * other[column]!;
        }
        expect(Math.abs(partial[row]! - expected)).toBeLessThan(2e-4);
      }
      const weights = Float64Array.from({ length: itemRows }, (_, row) =>
        row % 3 === 0 ? 0 : Math.abs(random()),
      );
      const sum = kernel.weightedItemSum(weights, 0.1);
      const restoredItems = Array.from({ length: itemRows }, (_, row) => kernel.itemRow(row));
      for (let column = 0; column < dimension; column++) {
        let expected = 0;
        for (let row = 0; row < itemRows; row++) {
          if (weights[row]! > 0.1) expected += weights[row]! * restoredItems[row]![column]!;
        }
        expect(sum[column]).toBeCloseTo(expected, 4);
      }
      expect(kernel.byteLength).toBe((rows + (shared ? 0 : itemRows)) * (dimension + 4));
    });
  }

  it('keeps a zero row zero and survives the largest codes without overflow', () => {
    const dimension = 1024;
    const kernel = createQuantizedVectorKernel(2, 2, dimension, true);
    kernel.setPieceRow(0, new Float32Array(dimension));
    kernel.setPieceRow(1, new Float32Array(dimension).fill(-1));
    const dots = kernel.pieceDots(new Float32Array(dimension).fill(-1));
    expect(dots[0]).toBe(0);
    expect(dots[1]).toBeCloseTo(dimension, 1);
  });
});
