/**
 * The one seeded generator of userplug (mulberry32) with Gaussian draws: equal seeds give equal streams, so
 * training, sampling, baselines and test models are reproducible.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** A whole number in [0, count). */
  below(count: number): number;
  /** Shuffles an array in place (Fisher–Yates). */
  shuffle<T>(values: T[]): T[];
}

/** A generator from a 32-bit seed. */
export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const below = (count: number): number => Math.floor(next() * count);
  return {
    next,
    below,
    normal() {
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      return radius * Math.cos(2 * Math.PI * next());
    },
    shuffle(values) {
      for (let index = values.length - 1; index > 0; index--) {
        const other = below(index + 1);
        [values[index], values[other]] = [values[other]!, values[index]!];
      }
      return values;
    },
  };
}

/** A 32-bit seed mixed from numbers and texts, so every part of a run draws its own stream. */
export function mixSeed(...parts: (number | string)[]): number {
  let hash = 2166136261 >>> 0;
  for (const part of parts) {
    const text = String(part);
    for (let index = 0; index < text.length; index++) {
      hash ^= text.charCodeAt(index);
      hash = Math.imul(hash, 16777619) >>> 0;
    }
    hash = Math.imul(hash ^ 0x9e3779b9, 16777619) >>> 0;
  }
  return hash >>> 0;
}
