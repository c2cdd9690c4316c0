import { describe, expect, it } from 'vitest';
import { vectorFor } from './testing/make-stored-item.js';
import {
  decodeVectors,
  encodedLength,
  encodeVectors,
  resolveQuantization,
  vectorFormatCode,
} from './vector-codec.js';

describe('vector codec', () => {
  const vectors = vectorFor('three pieces of one text', 16, 3);

  it('round-trips float32 vectors exactly, 4 bytes a number', () => {
    const data = encodeVectors(vectors, 3, 'float32');
    expect(data.byteLength).toBe(3 * 16 * 4);
    expect(decodeVectors(data, 3, 16, vectorFormatCode.float32)).toEqual(vectors);
  });

  it('keeps int8 vectors within one step of 1/127 of the largest number, at each piece’s norm', () => {
    const data = encodeVectors(vectors, 3, 'int8');
    expect(data.byteLength).toBe(encodedLength(3, 16, vectorFormatCode.int8));
    expect(data.byteLength).toBe(3 * 4 + 3 * 16);
    const decoded = decodeVectors(data, 3, 16, vectorFormatCode.int8)!;
    for (let piece = 0; piece < 3; piece++) {
      const row = (values: Float32Array) => values.subarray(piece * 16, piece * 16 + 16);
      const largest = Math.max(...row(vectors).map(Math.abs));
      row(decoded).forEach((value, column) => {
        expect(Math.abs(value - row(vectors)[column]!)).toBeLessThan(largest / 127);
      });
      const norm = Math.hypot(...row(decoded));
      expect(norm).toBeCloseTo(1, 6);
    }
  });

  it('refuses a blob of the wrong length or an unknown format', () => {
    const data = encodeVectors(vectors, 3, 'float32');
    expect(decodeVectors(data, 3, 8, vectorFormatCode.float32)).toBeUndefined();
    expect(decodeVectors(data.subarray(4), 3, 16, vectorFormatCode.float32)).toBeUndefined();
    expect(decodeVectors(data, 3, 16, 7)).toBeUndefined();
  });

  it('checks the quantization setting', () => {
    expect(resolveQuantization(undefined)).toBe('float32');
    expect(resolveQuantization('int8')).toBe('int8');
    expect(() => resolveQuantization('int4')).toThrow(/quantization must be "float32" or "int8", got "int4"/);
  });
});
