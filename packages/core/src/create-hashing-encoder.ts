import type { Encoder } from './encoder.js';
import { stem, words } from './text-terms.js';
import { normalizeInPlace } from './vector-math.js';

/** Settings of {@link createHashingEncoder}. */
export interface HashingEncoderSettings {
  /** Vector length. Default 256. */
  dim?: number;
}

function hashString(text: string, seed: number): number {
  let hash = 2166136261 ^ seed;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

/**
 * A tiny lexical encoder (feature hashing of stemmed words and word pairs): no model, no
 * dependency, instant. Similar texts share words, not meaning; use it for tests and as a baseline,
 * and the embedded default encoder for real personas.
 */
export function createHashingEncoder(settings: HashingEncoderSettings = {}): Encoder {
  const dim = settings.dim ?? 256;
  const embed = (text: string): Float32Array => {
    const vector = new Float32Array(dim);
    const terms = words(text).map(stem);
    const features = [...terms, ...terms.slice(1).map((term, index) => `${terms[index]} ${term}`)];
    for (const feature of features) {
      const hash = hashString(feature, 0);
      vector[hash % dim] = vector[hash % dim]! + ((hashString(feature, 1) & 1) === 0 ? 1 : -1);
    }
    // An empty text still gets a unit vector, so downstream math never divides by zero.
    if (features.length === 0) vector[0] = 1;
    return normalizeInPlace(vector);
  };
  return {
    id: `hashing-${dim}`,
    dim,
    async encode(texts) {
      return texts.map(embed);
    },
    dispose() {},
  };
}
