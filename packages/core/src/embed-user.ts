import { calibrateQuery } from './calibrate-pieces.js';
import type { UserIndex } from './user-index.js';
import { normalizeInPlace, softmaxInPlace } from './vector-math.js';

/** How the query-aware attention over a user's items is computed. Every field has a default. */
export interface AttentionSettings {
  /** Softmax temperature τ over the fused scores; lower is sharper. Default 0.05. */
  temperature?: number;
  /** Weight of the lexical (BM25, scaled to 0–1 by the best item) score next to the similarity. Default 0.1. */
  lexicalWeight?: number;
  /** Logit bonus of the newest dated item over a very old one. Default 0.5. */
  recencyWeight?: number;
  /** Half-life of the recency bonus, in days. Default 365. */
  recencyHalfLifeDays?: number;
  /** Logit offset per item kind, such as `{ review: 0.5 }`. Default none. */
  kindPriors?: Readonly<Record<string, number>>;
  /** How a long item's piece similarities become one: best piece, or mean of the best two. Default `top2`. */
  piecePooling?: 'max' | 'top2';
  /**
   * How much of a piece's hubness (its mean whitened cosine to its nearest pieces of the same user) is subtracted
   * from its similarity, so generic lines that resemble everything ("any suggestions?") stop outranking specific
   * ones. Applies when the index is calibrated (see `whitening`); 0 turns it off. Default 0.5.
   */
  hubnessWeight?: number;
}

/** The query-aware view of one user (Persona-Plug's input-aware attention over all items). */
export interface UserEmbedding {
  /** Attention weight of every item (softmax over all of them): sums to 1. */
  weights: Float64Array;
  /**
   * Pooled similarity of every item to the query: in a calibrated index the whitened cosine minus the hubness
   * penalty, otherwise the plain cosine.
   */
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
    lexicalWeight: settings.lexicalWeight ?? 0.1,
    recencyWeight: settings.recencyWeight ?? 0.5,
    recencyHalfLifeDays: settings.recencyHalfLifeDays ?? 365,
    kindPriors: settings.kindPriors ?? {},
    piecePooling: settings.piecePooling ?? 'top2',
    hubnessWeight: settings.hubnessWeight ?? 0.5,
  };
}

/**
 * Similarity of every piece to the query. In a calibrated index: the cosine after the user's soft whitening,
 * minus `hubnessWeight` × the piece's hubness; otherwise the plain cosine. The array is valid until the next
 * pass over the index.
 */
export function pieceSimilarities(
  index: UserIndex,
  queryVector: Float32Array,
  hubnessWeight: number,
): Float32Array {
  const calibration = index.calibration;
  if (!calibration) return index.kernel.pieceDots(queryVector);
  const { vector, offset } = calibrateQuery(calibration, queryVector);
  const dots = index.kernel.pieceDots(vector);
  const { pieceScales, hubness } = calibration;
  const similarities = new Float32Array(dots.length);
  for (let row = 0; row < dots.length; row++)
    similarities[row] = (dots[row]! - offset) * pieceScales[row]! - hubnessWeight * hubness[row]!;
  return similarities;
}

/**
 * Scores every item of a user against a query and returns the attention weights and the
 * query-aware persona vector: `s_i = (sim_i + λ·bm25_i) / τ + recency_i + kind_i + log(weight_i)`,
 * `w = softmax(s)` over all items, `P = Σ w_i h_i`. `sim_i` pools the item's piece similarities
 * (see {@link pieceSimilarities}).
 */
export function embedUser(
  index: UserIndex,
  queryVector: Float32Array,
  queryText: string,
  settings: AttentionSettings = {},
): UserEmbedding {
  const resolved = resolveAttentionSettings(settings);
  const count = index.items.length;
  const { pieceStart, ageDays, logWeights, kindIds } = index;
  const similarities = pieceSimilarities(index, queryVector, resolved.hubnessWeight);
  const relevance = new Float32Array(count);
  const bestPiece = new Int32Array(count);
  const topTwo = resolved.piecePooling === 'top2';
  for (let item = 0; item < count; item++) {
    const first = pieceStart[item]!;
    const end = pieceStart[item + 1]!;
    let best = similarities[first]!;
    if (end - first === 1) {
      relevance[item] = best;
      continue;
    }
    let second = Number.NEGATIVE_INFINITY;
    let bestRow = first;
    for (let row = first + 1; row < end; row++) {
      const similarity = similarities[row]!;
      if (similarity > best) {
        second = best;
        best = similarity;
        bestRow = row;
      } else if (similarity > second) {
        second = similarity;
      }
    }
    bestPiece[item] = bestRow - first;
    relevance[item] = topTwo ? (best + second) / 2 : best;
  }

  const lexical = index.lexical.score(queryText);
  let bestLexical = 0;
  for (const score of lexical) if (score > bestLexical) bestLexical = score;
  if (bestLexical > 0) for (let item = 0; item < count; item++) lexical[item] = lexical[item]! / bestLexical;

  const kindPriors = new Float32Array(index.kindNames.length);
  index.kindNames.forEach((kind, id) => {
    kindPriors[id] = resolved.kindPriors[kind] ?? 0;
  });
  const decay = Math.LN2 / resolved.recencyHalfLifeDays;
  const inverseTemperature = 1 / resolved.temperature;
  const lexicalWeight = resolved.lexicalWeight;
  const recencyWeight = resolved.recencyWeight;
  const weights = new Float64Array(count);
  for (let item = 0; item < count; item++) {
    let score = (relevance[item]! + lexicalWeight * lexical[item]!) * inverseTemperature + logWeights[item]!;
    const age = ageDays[item]!;
    if (!Number.isNaN(age)) score += recencyWeight * Math.exp(-decay * age);
    const kind = kindIds[item]!;
    if (kind >= 0) score += kindPriors[kind]!;
    weights[item] = score;
  }
  softmaxInPlace(weights);

  // Items below this weight together hold under 1e-6 of the mass: skipping them cannot move P visibly.
  const personaVector = normalizeInPlace(
    Float32Array.from(index.kernel.weightedItemSum(weights, 1e-6 / Math.max(1, count))),
  );
  return { weights, relevance, lexical, bestPiece, personaVector };
}
