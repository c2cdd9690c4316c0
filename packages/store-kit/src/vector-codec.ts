import { InvalidArgumentError } from '@userplug/core';

/** How a store keeps vectors: exact 32-bit floats, or 8-bit integers plus one norm per piece. */
export type VectorQuantization = 'float32' | 'int8';

/** Checks a store's `quantization` setting; undefined means `float32`. */
export function resolveQuantization(quantization: unknown): VectorQuantization {
  if (quantization === undefined) return 'float32';
  if (quantization !== 'float32' && quantization !== 'int8') {
    throw new InvalidArgumentError(
      'quantization',
      `quantization must be "float32" or "int8", got "${String(quantization)}".`,
    );
  }
  return quantization;
}

/** Format code stored next to each vector blob, so one file can hold both formats. */
export const vectorFormatCode: Record<VectorQuantization, number> = { float32: 0, int8: 1 };

/**
 * Serialises row-major piece vectors. `float32`: 4 bytes a number, little-endian. `int8`: the float32 L2
 * norm of each piece, then one signed byte per number (`round(v / max|v| · 127)`).
 */
export function encodeVectors(vectors: Float32Array, pieceCount: number, format: VectorQuantization): Buffer {
  if (format === 'float32') {
    return Buffer.from(vectors.buffer.slice(vectors.byteOffset, vectors.byteOffset + vectors.byteLength));
  }
  const dimension = vectors.length / pieceCount;
  const buffer = Buffer.alloc(pieceCount * 4 + vectors.length);
  const norms = new Float32Array(pieceCount);
  const codes = new Int8Array(buffer.buffer, buffer.byteOffset + pieceCount * 4, vectors.length);
  for (let piece = 0; piece < pieceCount; piece++) {
    const start = piece * dimension;
    let largest = 0;
    let squares = 0;
    for (let column = 0; column < dimension; column++) {
      const value = vectors[start + column]!;
      if (Math.abs(value) > largest) largest = Math.abs(value);
      squares += value * value;
    }
    norms[piece] = Math.sqrt(squares);
    const factor = largest > 0 ? 127 / largest : 0;
    for (let column = 0; column < dimension; column++) {
      codes[start + column] = Math.max(-127, Math.min(127, Math.round(vectors[start + column]! * factor)));
    }
  }
  buffer.set(new Uint8Array(norms.buffer), 0);
  return buffer;
}

/** Byte length of `pieceCount` pieces of `dimension` numbers in a format. */
export function encodedLength(pieceCount: number, dimension: number, formatCode: number): number {
  return formatCode === vectorFormatCode.int8
    ? pieceCount * 4 + pieceCount * dimension
    : pieceCount * dimension * 4;
}

/**
 * Reads vectors written by {@link encodeVectors}. int8 pieces are scaled back to their stored norm (1 for
 * the encoder's unit vectors), so cosines stay cosines. Returns undefined for a blob whose length does not
 * match `pieceCount × dimension`, or an unknown format.
 */
export function decodeVectors(
  data: Uint8Array,
  pieceCount: number,
  dimension: number,
  formatCode: number,
): Float32Array | undefined {
  if (data.byteLength !== encodedLength(pieceCount, dimension, formatCode)) return undefined;
  const vectors = new Float32Array(pieceCount * dimension);
  if (formatCode === vectorFormatCode.float32) {
    new Uint8Array(vectors.buffer).set(data);
    return vectors;
  }
  if (formatCode !== vectorFormatCode.int8) return undefined;
  const norms = new Float32Array(pieceCount);
  new Uint8Array(norms.buffer).set(data.subarray(0, pieceCount * 4));
  const codes = new Int8Array(data.buffer, data.byteOffset + pieceCount * 4, pieceCount * dimension);
  for (let piece = 0; piece < pieceCount; piece++) {
    const start = piece * dimension;
    let norm = 0;
    for (let column = 0; column < dimension; column++) {
      const value = codes[start + column]!;
      vectors[start + column] = value;
      norm += value * value;
    }
    const factor = norm > 0 ? norms[piece]! / Math.sqrt(norm) : 0;
    for (let column = 0; column < dimension; column++)
      vectors[start + column] = vectors[start + column]! * factor;
  }
  return vectors;
}
