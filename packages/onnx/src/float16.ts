const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** The float32 value of IEEE 754 half-precision bits. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** IEEE 754 half-precision bits of a number, rounded to nearest even. */
export function floatToHalf(value: number): number {
  floatView[0] = value;
  const bits = bitsView[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const rounded = mantissa >> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (rounded + (remainder > halfway || (remainder === halfway && rounded & 1) ? 1 : 0));
  }
  const rounded = mantissa >> 13;
  const remainder = mantissa & 0x1fff;
  const result = (halfExponent << 10) | rounded;
  return sign | (result + (remainder > 0x1000 || (remainder === 0x1000 && result & 1) ? 1 : 0));
}

/** The float32 value of bfloat16 bits. */
export function bfloat16ToFloat(bits: number): number {
  bitsView[0] = bits << 16;
  return floatView[0]!;
}

/** Converts half-precision bits to float32 values. */
export function halvesToFloats(bits: Uint16Array): Float32Array {
  const values = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) values[index] = halfToFloat(bits[index]!);
  return values;
}

/** Converts float32 values to half-precision bits. */
export function floatsToHalves(values: Float32Array): Uint16Array {
  const bits = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) bits[index] = floatToHalf(values[index]!);
  return bits;
}
