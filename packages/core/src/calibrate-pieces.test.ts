import { describe, expect, it } from 'vitest';
import { calibratePieces, calibrateQuery, symmetricEigen } from './calibrate-pieces.js';
import { createSeededRandom } from './seeded-random.js';

/** Unit rows with a shared offset and a few strong directions: anisotropic, as sentence embeddings are. */
function anisotropicRows(rows: number, dimension: number, seed: number): Float32Array {
  const random = createSeededRandom(seed).next;
  const matrix = new Float32Array(rows * dimension);
  for (let row = 0; row < rows; row++) {
    let norm = 0;
    for (let column = 0; column < dimension; column++) {
      const spread = column < 3 ? 3 : 1;
      const value = 0.8 + spread * (random() - 0.5);
      matrix[row * dimension + column] = value;
      norm += value * value;
    }
    for (let column = 0; column < dimension; column++)
      matrix[row * dimension + column] = matrix[row * dimension + column]! / Math.sqrt(norm);
  }
  return matrix;
}

/** Reference soft whitening from a full eigen-decomposition: `W = U diag((λ + s·λ̄)^-½) Uᵀ`. */
function referenceWhitening(matrix: Float32Array, rows: number, dimension: number, strength: number) {
  const mean = new Float64Array(dimension);
  for (let row = 0; row < rows; row++)
    for (let column = 0; column < dimension; column++)
      mean[column] = mean[column]! + matrix[row * dimension + column]! / rows;
  const covariance = new Float64Array(dimension * dimension);
  for (let row = 0; row < rows; row++)
    for (let left = 0; left < dimension; left++)
      for (let right = 0; right < dimension; right++)
        covariance[left * dimension + right] =
          covariance[left * dimension + right]! +
          ((matrix[row * dimension + left]! - mean[left]!) *
            (matrix[row * dimension + right]! - mean[right]!)) /
            rows;
  const { values, vectors } = symmetricEigen(covariance, dimension);
  const meanVariance = values.reduce((sum, value) => sum + value, 0) / dimension;
  const whiten = (vector: ArrayLike<number>) => {
    const out = new Float64Array(dimension);
    for (let index = 0; index < dimension; index++) {
      let projection = 0;
      for (let column = 0; column < dimension; column++)
        projection += vectors[index * dimension + column]! * (vector[column]! - mean[column]!);
      const scaled = projection / Math.sqrt(Math.max(0, values[index]!) + strength * meanVariance);
      for (let column = 0; column < dimension; column++)
        out[column] = out[column]! + scaled * vectors[index * dimension + column]!;
    }
    return out;
  };
  return whiten;
}

function cosine(left: Float64Array, right: Float64Array): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    leftNorm += left[index]! ** 2;
    rightNorm += right[index]! ** 2;
  }
  return dot / Math.sqrt(leftNorm * rightNorm);
}

describe('symmetricEigen', () => {
  it('decomposes a symmetric matrix into orthonormal eigenvectors', () => {
    const matrix = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1]);
    const { values, vectors } = symmetricEigen(matrix, 3);
    for (let index = 0; index < 3; index++) {
      for (let row = 0; row < 3; row++) {
        let applied = 0;
        for (let column = 0; column < 3; column++)
          applied += matrix[row * 3 + column]! * vectors[index * 3 + column]!;
        expect(applied).toBeCloseTo(values[index]! * vectors[index * 3 + row]!, 9);
      }
    }
    expect(values.reduce((sum, value) => sum + value, 0)).toBeCloseTo(8, 9);
  });
});

describe('calibratePieces', () => {
  it('stays off for small histories and when whitening is false', () => {
    const matrix = anisotropicRows(80, 8, 1);
    expect(calibratePieces(matrix, 20, 8)).toBeUndefined();
    expect(calibratePieces(matrix, 80, 8, { whitening: false })).toBeUndefined();
    const calibration = calibratePieces(matrix, 80, 8);
    expect(calibration?.dimension).toBe(8);
    expect(calibration?.mean).toHaveLength(8);
    expect(calibration?.pieceScales).toHaveLength(80);
  });

  it('scores a query by its cosine to each piece in the whitened space', () => {
    const rows = 300;
    const dimension = 12;
    const matrix = anisotropicRows(rows, dimension, 7);
    const calibration = calibratePieces(matrix, rows, dimension, { whitening: 2 })!;
    const whiten = referenceWhitening(matrix, rows, dimension, 2);
    const query = anisotropicRows(1, dimension, 99);
    const { vector, offset } = calibrateQuery(calibration, query);
    const whitenedQuery = whiten(query);
    for (const row of [0, 17, 150, 299]) {
      const piece = matrix.subarray(row * dimension, (row + 1) * dimension);
      let dot = 0;
      for (let column = 0; column < dimension; column++) dot += piece[column]! * vector[column]!;
      const calibrated = (dot - offset) * calibration.pieceScales[row]!;
      expect(calibrated).toBeCloseTo(cosine(whitenedQuery, whiten(piece)), 3);
    }
  });

  it('gives near-duplicate pieces a higher hubness than distinct ones', () => {
    const rows = 120;
    const dimension = 16;
    const matrix = anisotropicRows(rows, dimension, 3);
    // Rows 0–29 are one generic line said thirty times, with tiny variations.
    for (let row = 1; row < 30; row++)
      for (let column = 0; column < dimension; column++)
        matrix[row * dimension + column] = matrix[column]! + 0.001 * Math.sin(row * (column + 1));
    const calibration = calibratePieces(matrix, rows, dimension)!;
    const mean = (from: number, to: number) => {
      let sum = 0;
      for (let row = from; row < to; row++) sum += calibration.hubness[row]!;
      return sum / (to - from);
    };
    expect(mean(0, 30)).toBeGreaterThan(0.9);
    expect(mean(30, rows)).toBeLessThan(mean(0, 30) - 0.3);
  });

  it('bounds the hubness sample and still scores every piece', () => {
    const rows = 400;
    const matrix = anisotropicRows(rows, 8, 5);
    const calibration = calibratePieces(matrix, rows, 8, { hubnessSampleSize: 32 })!;
    expect(calibration.hubness).toHaveLength(rows);
    for (const value of calibration.hubness) expect(Number.isFinite(value)).toBe(true);
    for (const value of calibration.pieceScales) expect(value).toBeGreaterThan(0);
  });
});
