import { useDimension } from './use-model-files.js';

/** Rescales every 512-float row to unit length in place (the graphs end in l2_normalize; this removes float drift). */
export function normalizeRows(values: Float32Array): Float32Array {
  for (let start = 0; start < values.length; start += useDimension) {
    let sumOfSquares = 0;
    for (let index = start; index < start + useDimension; index += 1) sumOfSquares += values[index]! ** 2;
    const scale = sumOfSquares > 0 ? 1 / Math.sqrt(sumOfSquares) : 0;
    for (let index = start; index < start + useDimension; index += 1) values[index] = values[index]! * scale;
  }
  return values;
}
