import type { UserIndex } from './user-index.js';
import { addScaledRow, normalizeInPlace, softmaxInPlace } from './vector-math.js';

/** How the query-aware attention over a user's items is computed. Every field has a default. */
export interface AttentionSettings {
  /** Softmax temperature τ over the fused scores; lower is sharper. Default 0.05. */
  temperature?: number;
  /** Weight of the lexical (BM25, scaled to 0–1 by the best item) score next to the cosine. Default 0.3. */
  lexicalWeight?: number;
  /** Logit bonus of the newest dated item over a very old one. Default 0.5. */
  recencyWeight?: number;
  /** Half-life of the recency bonus, in days. Default 365. */
  recencyHalfLifeDays?: number;
  /** Logit offset per item kind, such as `{ review: 0.5 }`. Default none. */
  kindPriors?: Readonly<Record<string, number>>;
  /** How a long item's piece similarities become one: best piece, or mean of the best two. Default `top2`. */
  piecePooling?: 'max' | 'top2';
}

/** The query-aware view of one user (Persona-Plug's input-aware attention over all items). */
export interface UserEmbedding {
  /** Attention weight of every item (softmax over all of them): sums to 1. */
  weights: Float64Array;
  /** Pooled cosine similarity of every item to the query. */
  relevance: Float32Array;
  /** BM25 score of every item, scaled so the best item has 1. */
  lexical: Float32Array;
  /** For every item, the row (within the item) of its piece most similar to the query. */
  bestPiece: Int32Array;
  /** Query-aware persona vector: unit attention-weighted mean of item vectors. */
  personaVector: Float32Array;
}

/** Fills in every default of {@link AttentionSettings}. */
export function resolveAttentionSettings(settings: AttentionSettings = {}): Required<AttentionSettings> {
  return {
    temperature: settings.temperature ?? 0.05,
    lexicalWeight: settings.lexicalWeight ?? 0.3,
    recencyWeight: settings.recencyWeight ?? 0.5,
    recencyHalfLifeDays: settings.recencyHalfLifeDays ?? 365,
    kindPriors: settings.kindPriors ?? {},
    piecePooling: settings.piecePooling ?? 'top2',
  };
}

function pieceSimilarities(index: UserIndex, query: Float32Array): Float32Array {
  const { pieceMatrix, dimension } = index;
  const rows = pieceMatrix.length / dimension;
  const similarities = new Float32Array(rows);
  for (let row = 0, offset = 0; row < rows; row++, offset += dimension) {
    let sum = 0;
    for (let column = 0; column < dimension; column++) sum += pieceMatrix[offset + column]! * query[column]!;
    similarities[row] = sum;
  }
  return similarities;
}

/**
 * Scores every item of a user against a query and returns the attention weights and the
 * query-aware persona vector: `s_i = (cos_i + λ·bm25_i) / τ + recency_i + kind_i + log(weight_i)`,
 * `w = softmax(s)` over all items, `P = Σ w_i h_i`.
 */
export function embedUser(
  index: UserIndex,
  queryVector: Float32Array,
  queryText: string,
  settings: AttentionSettings = {},
): UserEmbedding {
  const resolved = resolveAttentionSettings(settings);
  const count = index.items.length;
  const similarities = pieceSimilarities(index, queryVector);
  const relevance = new Float32Array(count);
  const bestPiece = new Int32Array(count);
  let row = 0;
  for (let item = 0; item < count; item++) {
    const pieces = index.items[item]!.pieceCount;
    let best = Number.NEGATIVE_INFINITY;
    let second = Number.NEGATIVE_INFINITY;
    for (let piece = 0; piece < pieces; piece++) {
      const similarity = similarities[row + piece]!;
      if (similarity > best) {
        second = best;
        best = similarity;
        bestPiece[item] = piece;
      } else if (similarity > second) {
        second = similarity;
      }
    }
    relevance[item] = resolved.piecePooling === 'top2' && pieces > 1 ? (best + second) / 2 : best;
    row += pieces;
  }

  const lexical = index.lexical.score(queryText);
  let bestLexical = 0;
  for (const score of lexical) if (score > bestLexical) bestLexical = score;
  if (bestLexical > 0) for (let item = 0; item < count; item++) lexical[item] = lexical[item]! / bestLexical;

  const decay = Math.LN2 / resolved.recencyHalfLifeDays;
  const weights = new Float64Array(count);
  for (let item = 0; item < count; item++) {
    const stored = index.items[item]!;
    let score = (relevance[item]! + resolved.lexicalWeight * lexical[item]!) / resolved.temperature;
    const age = index.ageDays[item]!;
    if (!Number.isNaN(age)) score += resolved.recencyWeight * Math.exp(-decay * age);
    if (stored.kind !== undefined) score += resolved.kindPriors[stored.kind] ?? 0;
    const weight = stored.weight ?? 1;
    score += weight > 0 ? Math.log(weight) : Number.NEGATIVE_INFINITY;
    weights[item] = score;
  }
  softmaxInPlace(weights);

  const personaVector = new Float32Array(index.dimension);
  for (let item = 0; item < count; item++) {
    const weight = weights[item]!;
    if (weight > 0) addScaledRow(personaVector, index.itemMatrix, item, weight);
  }
  normalizeInPlace(personaVector);
  return { weights, relevance, lexical, bestPiece, personaVector };
}
