import { describe, expect, it } from 'vitest';
import { bfloat16ToFloat, floatsToHalves, floatToHalf, halfToFloat, halvesToFloats } from './float16.js';

describe('float16', () => {
  it('converts exactly representable values both ways', () => {
    for (const value of [0, 1, -2, 0.5, 65504, -(2 ** -14), 2 ** -24, 1.5, 1000.5]) {
      expect(halfToFloat(floatToHalf(value))).toBe(value);
    }
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(halfToFloat(floatToHalf(1e6))).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });

  it('rounds to the nearest half within its precision, subnormals included', () => {
    const values = Float32Array.from([0.1, -2.71, 1e-6, 123.456, 6e-8]);
    const back = halvesToFloats(floatsToHalves(values));
    values.forEach((value, index) => {
      expect(Math.abs(back[index]! - value)).toBeLessThanOrEqual(
        Math.max(Math.abs(value) * 2 ** -11, 2 ** -25),
      );
    });
  });

  it('reads bfloat16', () => {
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0xc000)).toBe(-2);
  });
});
