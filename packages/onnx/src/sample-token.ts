import { createSeededRandom } from '@userplug/core/internal';

/** How to pick the next token. */
export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); higher flattens the distribution. */
  temperature: number;
  /** Nucleus: sample only among the most likely tokens whose probabilities add up to this (0–1]. */
  topP: number;
  /** Uniform random numbers, used when temperature > 0. */
  random: () => number;
}

/** Index of the largest logit (the first, on ties). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let index = 1; index < logits.length; index++) if (logits[index]! > logits[best]!) best = index;
  return best;
}

/** Picks the next token id from one row of logits: greedy at temperature 0, else temperature and top-p sampling. */
export function sampleToken(logits: Float32Array, options: SamplingOptions): number {
  if (options.temperature <= 0) return argmax(logits);
  const maximum = logits[argmax(logits)]!;
  const probabilities = new Float64Array(logits.length);
  let total = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = Math.exp((logits[index]! - maximum) / options.temperature);
    probabilities[index] = value;
    total += value;
  }
  if (options.topP >= 1) {
    let threshold = options.random() * total;
    for (let index = 0; index < probabilities.length; index++) {
      threshold -= probabilities[index]!;
      if (threshold < 0) return index;
    }
    return argmax(logits);
  }
  // The nucleus lies among the tokens above some cutoff whose mass reaches topP: sort only those.
  const target = options.topP * total;
  let candidates: number[] = [];
  for (let cutoff = 1e-3; ; cutoff *= 1e-3) {
    candidates = [];
    let candidateMass = 0;
    for (let index = 0; index < probabilities.length; index++) {
      if (probabilities[index]! >= cutoff) {
        candidates.push(index);
        candidateMass += probabilities[index]!;
      }
    }
    if (candidateMass >= target || cutoff < 1e-30) break;
  }
  const order = candidates.sort(
    (left, right) => probabilities[right]! - probabilities[left]! || left - right,
  );
  // The fewest most-likely tokens whose mass reaches topP (always at least one).
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < target)) {
    mass += probabilities[order[kept]!]!;
    kept += 1;
  }
  let threshold = options.random() * mass;
  for (let rank = 0; rank < kept; rank++) {
    threshold -= probabilities[order[rank]!]!;
    if (threshold < 0) return order[rank]!;
  }
  return order[kept - 1]!;
}

/** Samples token after token with one seeded random source. */
export function createSampler(options: { temperature: number; topP: number; seed: number }): {
  next(logits: Float32Array): number;
} {
  const random = createSeededRandom(options.seed).next;
  return {
    next: (logits) => sampleToken(logits, { temperature: options.temperature, topP: options.topP, random }),
  };
}
