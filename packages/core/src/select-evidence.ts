import { dot } from './vector-math.js';

/** Settings of {@link selectEvidence}. */
export interface SelectEvidenceSettings {
  /** Most items returned. */
  limit: number;
  /** Trade-off between weight (1) and diversity (0). Default 0.7. */
  lambda?: number;
  /** How many of the highest-weight items are considered. Default 40. */
  poolSize?: number;
  /** The attention temperature that made the weights, to read them back as similarities. Default 0.05. */
  temperature?: number;
}

/** Rows of the `count` highest weights, highest first (ties by row), in O(n log count). */
export function topRows(weights: ArrayLike<number>, count: number): number[] {
  const top: number[] = [];
  if (count <= 0) return top;
  const before = (left: number, right: number) =>
    weights[left]! > weights[right]! || (weights[left] === weights[right] && left < right);
  for (let row = 0; row < weights.length; row++) {
    if (top.length === count && !before(row, top[top.length - 1]!)) continue;
    if (top.length === count) top.pop();
    let position = top.length;
    while (position > 0 && before(row, top[position - 1]!)) position--;
    top.splice(position, 0, row);
  }
  return top;
}

/**
 * Picks evidence items by attention weight with maximal marginal relevance, so the persona does
 * not quote five near-identical items. Returns item rows in the order they should be shown.
 * `items` is the row-major item matrix, or a function returning item row `r` (such as `kernel.itemRow`).
 */
export function selectEvidence(
  weights: Float64Array,
  items: Float32Array | ((row: number) => Float32Array),
  dimension: number,
  settings: SelectEvidenceSettings,
): number[] {
  const lambda = settings.lambda ?? 0.7;
  const pool = topRows(weights, settings.poolSize ?? 40).filter((row) => weights[row]! > 0);
  if (pool.length === 0) return [];
  const itemRow =
    typeof items === 'function'
      ? items
      : (row: number) => items.subarray(row * dimension, (row + 1) * dimension);
  const poolVectors = pool.map(itemRow);
  // Relevance in cosine units: attention logits are fused cosines divided by the temperature, so
  // τ·(logit − best logit) is how much less similar an item is, comparable to the diversity term.
  const temperature = settings.temperature ?? 0.05;
  const best = Math.log(weights[pool[0]!]!);
  const relevance = pool.map((row) => 1 + temperature * (Math.log(weights[row]!) - best));
  const chosen: number[] = [];
  const maxSimilarity = new Float64Array(pool.length).fill(0);
  const used = new Uint8Array(pool.length);
  while (chosen.length < Math.min(settings.limit, pool.length)) {
    let bestIndex = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < pool.length; index++) {
      if (used[index]) continue;
      const score = lambda * relevance[index]! - (1 - lambda) * maxSimilarity[index]!;
      if (score > bestScore) {
        bestScore = score;
        bestIndex = index;
      }
    }
    if (bestIndex < 0) break;
    used[bestIndex] = 1;
    const row = pool[bestIndex]!;
    chosen.push(row);
    const chosenVector = poolVectors[bestIndex]!;
    for (let index = 0; index < pool.length; index++) {
      if (used[index]) continue;
      const similarity = dot(poolVectors[index]!, chosenVector);
      if (similarity > maxSimilarity[index]!) maxSimilarity[index] = similarity;
    }
  }
  return chosen;
}
