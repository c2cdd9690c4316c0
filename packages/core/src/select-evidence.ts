import { dotRow } from './vector-math.js';

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
 */
export function selectEvidence(
  weights: Float64Array,
  itemMatrix: Float32Array,
  dimension: number,
  settings: SelectEvidenceSettings,
): number[] {
  const lambda = settings.lambda ?? 0.7;
  const pool = topRows(weights, settings.poolSize ?? 40).filter((row) => weights[row]! > 0);
  if (pool.length === 0) return [];
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
    const chosenVector = itemMatrix.subarray(row * dimension, (row + 1) * dimension);
    for (let index = 0; index < pool.length; index++) {
      if (used[index]) continue;
      const similarity = dotRow(itemMatrix, pool[index]!, chosenVector);
      if (similarity > maxSimilarity[index]!) maxSimilarity[index] = similarity;
    }
  }
  return chosen;
}

/** What {@link groupNearDuplicates} compares. */
export interface DuplicateKey {
  /** The item's text. */
  text: string;
  /** Who wrote it: only items of the same speaker (or both without one) are merged. */
  speaker?: string | undefined;
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Groups near-duplicate items (the same statement repeated across sessions), keeping the given order: each group is
 * led by its first row. Two items are near-duplicates when the same speaker wrote them and their words are the same,
 * or, for texts of four words or more, their word sets overlap by at least `minimumOverlap` (Jaccard) and their
 * vectors by at least `minimumCosine`.
 */
export function groupNearDuplicates(
  rows: readonly number[],
  keyOf: (row: number) => DuplicateKey,
  itemMatrix: Float32Array,
  dimension: number,
  settings: { minimumOverlap?: number; minimumCosine?: number } = {},
): number[][] {
  const minimumOverlap = settings.minimumOverlap ?? 0.8;
  const minimumCosine = settings.minimumCosine ?? 0.9;
  const groups: { rows: number[]; speaker: string | undefined; joined: string; set: Set<string> }[] = [];
  for (const row of rows) {
    const key = keyOf(row);
    const list = wordsOf(key.text);
    const joined = list.join(' ');
    const set = new Set(list);
    const vector = itemMatrix.subarray(row * dimension, (row + 1) * dimension);
    const match = groups.find((group) => {
      if (group.speaker !== key.speaker) return false;
      if (group.joined === joined) return true;
      if (list.length < 4 || group.set.size < 4) return false;
      let shared = 0;
      for (const word of set) if (group.set.has(word)) shared++;
      const overlap = shared / (set.size + group.set.size - shared);
      return overlap >= minimumOverlap && dotRow(itemMatrix, group.rows[0]!, vector) >= minimumCosine;
    });
    if (match) match.rows.push(row);
    else groups.push({ rows: [row], speaker: key.speaker, joined, set });
  }
  return groups.map((group) => group.rows);
}
