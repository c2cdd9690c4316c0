/** Dot product of two vectors of the same length. */
export function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

/** Dot product of `query` with row `row` of a row-major matrix whose rows have `query.length` columns. */
export function dotRow(matrix: Float32Array, row: number, query: Float32Array): number {
  const dimension = query.length;
  const offset = row * dimension;
  let sum = 0;
  for (let index = 0; index < dimension; index++) sum += matrix[offset + index]! * query[index]!;
  return sum;
}

/** Scales a vector to unit length in place; a zero vector stays zero. */
export function normalizeInPlace(vector: Float32Array): Float32Array {
  let squared = 0;
  for (let index = 0; index < vector.length; index++) squared += vector[index]! * vector[index]!;
  if (squared > 0) {
    const scale = 1 / Math.sqrt(squared);
    for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
  }
  return vector;
}

/** `target += scale · row` for one row of a row-major matrix. */
export function addScaledRow(target: Float32Array, matrix: Float32Array, row: number, scale: number): void {
  const dimension = target.length;
  const offset = row * dimension;
  for (let index = 0; index < dimension; index++)
    target[index] = target[index]! + scale * matrix[offset + index]!;
}

/** Softmax of scores in place, stable for large values; `-Infinity` entries get weight 0. */
export function softmaxInPlace(scores: Float32Array | Float64Array): void {
  let maximum = Number.NEGATIVE_INFINITY;
  for (const score of scores) if (score > maximum) maximum = score;
  if (maximum === Number.NEGATIVE_INFINITY) {
    scores.fill(0);
    return;
  }
  let total = 0;
  for (let index = 0; index < scores.length; index++) {
    const value = Math.exp(scores[index]! - maximum);
    scores[index] = value;
    total += value;
  }
  for (let index = 0; index < scores.length; index++) scores[index] = scores[index]! / total;
}
