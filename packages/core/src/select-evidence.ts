import { stopwords } from './text-terms.js';
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
    // Binary search for the place of the row among the kept ones.
    let low = 0;
    let high = top.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(top[middle]!, row)) low = middle + 1;
      else high = middle;
    }
    top.splice(low, 0, row);
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
 * or, for texts of four content words or more, their content words overlap by at least `minimumOverlap` (Jaccard)
 * and their vectors by at least `minimumCosine`. Groups that share words are found through an inverted index, so the
 * cost grows with the words of the rows, not with their square.
 */
export function groupNearDuplicates(
  rows: readonly number[],
  keyOf: (row: number) => DuplicateKey,
  itemRow: (row: number) => Float32Array,
  settings: { minimumOverlap?: number; minimumCosine?: number } = {},
): number[][] {
  const minimumOverlap = settings.minimumOverlap ?? 0.8;
  const minimumCosine = settings.minimumCosine ?? 0.9;
  const groups: { rows: number[]; speaker: string | undefined; content: number }[] = [];
  const exact = new Map<string, number>();
  const maxGroupsPerWord = 16;
  // Only content words are indexed: two near-duplicates share most of them, and "the" would touch every group.
  const groupsWithWord = new Map<string, number[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const list = wordsOf(key.text);
    const exactKey = `${key.speaker ?? ''}\u0000${list.join(' ')}`;
    let match = exact.get(exactKey);
    const content = [...new Set(list)].filter((word) => !stopwords.has(word));
    if (match === undefined && content.length >= 4) {
      // Content words shared with each earlier group, tallied through the index.
      const tally = new Map<number, number>();
      for (const word of content)
        for (const group of groupsWithWord.get(word) ?? []) tally.set(group, (tally.get(group) ?? 0) + 1);
      const vector = itemRow(row);
      for (const [group, shared] of [...tally].sort((left, right) => left[0] - right[0])) {
        const candidate = groups[group]!;
        if (candidate.speaker !== key.speaker || candidate.content < 4) continue;
        if (shared / (content.length + candidate.content - shared) < minimumOverlap) continue;
        if (dot(itemRow(candidate.rows[0]!), vector) < minimumCosine) continue;
        match = group;
        break;
      }
    }
    if (match !== undefined) {
      groups[match]!.rows.push(row);
      continue;
    }
    const group = groups.length;
    groups.push({ rows: [row], speaker: key.speaker, content: content.length });
    exact.set(exactKey, group);
    for (const word of content) {
      const list = groupsWithWord.get(word);
      // A word in this many groups identifies no duplicate; it is left out of the index to bound the work.
      if (!list) groupsWithWord.set(word, [group]);
      else if (list.length < maxGroupsPerWord) list.push(group);
    }
  }
  return groups.map((group) => group.rows);
}
