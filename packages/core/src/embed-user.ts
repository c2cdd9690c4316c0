import { calibrateQuery } from './calibrate-pieces.js';
import type { ConversationStructure, QuestionCues } from './conversation-structure.js';
import { isChatTurn } from './embed-history-items.js';
import { topRows } from './select-evidence.js';
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
  /**
   * How a long item's piece similarities become one: best piece, or mean of the best two. A chat turn (an item with a
   * `speaker`) always scores by its best piece. Default `top2`.
   */
  piecePooling?: 'max' | 'top2';
  /**
   * How much of a piece's hubness (its mean whitened cosine to its nearest pieces of the same user) is subtracted
   * from its similarity, so generic lines that resemble everything ("any suggestions?") stop outranking specific
   * ones. Applies when the index is calibrated (see `whitening`); 0 turns it off. Default 0.5.
   */
  hubnessWeight?: number;
  /**
   * Pseudo-relevance feedback: the query's `feedbackPieces` best-matching pieces become anchors, and every piece
   * gains this weight × its similarity to the nearest anchor before the items are scored again, so a question also
   * meets the words this user says about its topic ("sports" → their messages about rowing). Applies when the
   * index is calibrated; 0 turns it off. Default 0.3.
   */
  feedbackWeight?: number;
  /** Best-matching pieces that serve as feedback anchors. Default 5. */
  feedbackPieces?: number;
  /** Most items (the best of the first pass) scored again with feedback; the rest stay below them. Default 1,000. */
  feedbackCandidates?: number;
  /**
   * A chat turn that answers a question is read with it: it gains this share of how much better the question before
   * it matches the query, so "Yes, twice last month!" after "Have you been to Lisbon?" meets a question about Lisbon.
   * (After a statement, the next turn is mostly a reaction, and gains nothing.) Applies to items with a
   * `conversationId` or `sessionId`; 0 turns it off. Default 0.6.
   */
  contextWeight?: number;
  /** Similarity bonus of the turns of a speaker the question names ("What did Priya cook?"). Default 0.1. */
  speakerWeight?: number;
  /** Similarity bonus of the user's own items (`self`) for a question in the first person. Default 0.05. */
  selfWeight?: number;
  /**
   * Similarity bonus, for a question that asks when, of items with a relative date resolved against their timestamp
   * ("yesterday"); and of items dated in a period the question names ("in 2023"). Default 0.03.
   */
  timeWeight?: number;
}

/** A user's conversation structure and what the question says about speakers and time. */
export interface ConversationCues {
  structure: ConversationStructure;
  cues: QuestionCues;
}

/** The query-aware view of one user (Persona-Plug's input-aware attention over all items). */
export interface UserEmbedding {
  /** Attention weight of every item (softmax over all of them): sums to 1. */
  weights: Float64Array;
  /**
   * Pooled similarity of every item to the query: in a calibrated index the whitened cosine minus the hubness
   * penalty, otherwise the plain cosine; plus what the conversation adds (context, speakers, time).
   */
  relevance: Float32Array;
  /** BM25 score of every item, scaled so the best item has 1. */
  lexical: Float32Array;
  /** For every item, the row (within the item) of its piece most similar to the query. */
  bestPiece: Int32Array;
  /**
   * Similarity of every piece to the query (see {@link pieceSimilarities}), with feedback for the items scored
   * again. It may share memory with the index: read it before the next pass over the same index.
   */
  pieceRelevance: Float32Array;
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
    feedbackWeight: settings.feedbackWeight ?? 0.3,
    feedbackPieces: settings.feedbackPieces ?? 5,
    feedbackCandidates: settings.feedbackCandidates ?? 1_000,
    contextWeight: settings.contextWeight ?? 0.6,
    speakerWeight: settings.speakerWeight ?? 0.1,
    selfWeight: settings.selfWeight ?? 0.05,
    timeWeight: settings.timeWeight ?? 0.03,
  };
}

/**
 * Similarity of every piece to the query. In a calibrated index: the cosine after the user's soft whitening,
 * minus `hubnessWeight` × the piece's hubness; otherwise the plain cosine. With `ranges`, only those rows are
 * written. The array (`output` when given and the index is calibrated) is valid until the next pass over the index.
 */
export function pieceSimilarities(
  index: UserIndex,
  queryVector: Float32Array,
  hubnessWeight: number,
  ranges?: Int32Array,
  output?: Float32Array,
): Float32Array {
  const { kernel, calibration } = index;
  const dotsOf = (vector: Float32Array) =>
    ranges ? kernel.pieceDotsInRanges(vector, ranges) : kernel.pieceDots(vector);
  if (!calibration) return dotsOf(queryVector);
  const { vector, offset } = calibrateQuery(calibration, queryVector);
  const dots = dotsOf(vector);
  const { pieceScales, hubness } = calibration;
  const similarities = output ?? new Float32Array(dots.length);
  const similarity = (row: number) =>
    (dots[row]! - offset) * pieceScales[row]! - hubnessWeight * hubness[row]!;
  if (!ranges) {
    for (let row = 0; row < dots.length; row++) similarities[row] = similarity(row);
    return similarities;
  }
  for (let index = 0; index + 1 < ranges.length; index += 2)
    for (let row = ranges[index]!; row < ranges[index + 1]!; row++) similarities[row] = similarity(row);
  return similarities;
}

/** Pools the piece similarities of the given items (all when omitted) into `relevance` and `bestPiece`. */
function poolPieces(
  index: UserIndex,
  similarities: Float32Array,
  topTwo: boolean,
  relevance: Float32Array,
  bestPiece: Int32Array,
  items?: readonly number[],
): void {
  const { pieceStart } = index;
  const count = items ? items.length : index.items.length;
  for (let position = 0; position < count; position++) {
    const item = items ? items[position]! : position;
    const first = pieceStart[item]!;
    const end = pieceStart[item + 1]!;
    let best = similarities[first]!;
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
    // A chat turn is one message: its best sentence is what it says about the query.
    relevance[item] =
      topTwo && end - first > 1 && !isChatTurn(index.items[item]!) ? (best + second) / 2 : best;
  }
}

/** The `k`-th largest of the values (quickselect on a copy, O(n) expected). */
function kthLargest(values: Float32Array, k: number): number {
  const copy = Float32Array.from(values);
  let low = 0;
  let high = copy.length - 1;
  const target = k - 1;
  while (low < high) {
    const pivot = copy[(low + high) >>> 1]!;
    let left = low;
    let right = high;
    while (left <= right) {
      while (copy[left]! > pivot) left++;
      while (copy[right]! < pivot) right--;
      if (left <= right) {
        const swap = copy[left]!;
        copy[left] = copy[right]!;
        copy[right] = swap;
        left++;
        right--;
      }
    }
    if (target <= right) high = right;
    else if (target >= left) low = left;
    else break;
  }
  return copy[target]!;
}

/** Rows of the `count` largest values, in row order (ties at the threshold fill up to `count`). */
function largestRows(values: Float32Array, count: number): number[] {
  const threshold = kthLargest(values, count);
  const rows: number[] = [];
  for (let row = 0; row < values.length; row++) if (values[row]! > threshold) rows.push(row);
  for (let row = 0; row < values.length && rows.length < count; row++)
    if (values[row] === threshold) rows.push(row);
  return rows;
}

/** The piece rows of the items, as `[start, end, …]` ranges for the kernel. */
function pieceRanges(index: UserIndex, items: readonly number[]): Int32Array {
  const ranges = new Int32Array(items.length * 2);
  items.forEach((item, position) => {
    ranges[position * 2] = index.pieceStart[item]!;
    ranges[position * 2 + 1] = index.pieceStart[item + 1]!;
  });
  return ranges;
}

/**
 * Rescores the best items of the first pass: each of their pieces gains `feedbackWeight` × its similarity to the
 * nearest of the query's `feedbackPieces` best pieces (itself left out). A nearest anchor rather than the anchors'
 * mean keeps the facets of a list question apart: "sports" reaches rowing through one anchor, yoga through another.
 * The other items stay below all rescored ones.
 */
function rescoreWithFeedback(
  index: UserIndex,
  similarities: Float32Array,
  settings: Required<AttentionSettings>,
  relevance: Float32Array,
  bestPiece: Int32Array,
): void {
  const count = index.items.length;
  // Small histories are rescored whole: passes over all their pieces cost less than picking candidates.
  const candidates =
    count > settings.feedbackCandidates ? largestRows(relevance, settings.feedbackCandidates) : undefined;
  const ranges = candidates ? pieceRanges(index, candidates) : Int32Array.of(0, index.pieceStart[count]!);
  const anchors = topRows(similarities, settings.feedbackPieces);
  // Only the rows in `ranges` are read or written below.
  const nearest = new Float32Array(similarities.length);
  const toAnchor = new Float32Array(similarities.length);
  anchors.forEach((anchor, position) => {
    const anchorVector = index.kernel.pieceRow(anchor);
    pieceSimilarities(index, anchorVector, settings.hubnessWeight, ranges, toAnchor);
    for (let range = 0; range + 1 < ranges.length; range += 2)
      for (let row = ranges[range]!; row < ranges[range + 1]!; row++) {
        const similarity = row === anchor ? Number.NEGATIVE_INFINITY : toAnchor[row]!;
        if (position === 0 || similarity > nearest[row]!) nearest[row] = similarity;
      }
  });
  // The first pass's similarities are not read again, so they are rescored in place.
  for (let range = 0; range + 1 < ranges.length; range += 2)
    for (let row = ranges[range]!; row < ranges[range + 1]!; row++)
      if (nearest[row]! > Number.NEGATIVE_INFINITY)
        similarities[row] = similarities[row]! + settings.feedbackWeight * nearest[row]!;
  poolPieces(index, similarities, settings.piecePooling === 'top2', relevance, bestPiece, candidates);
  if (!candidates) return;
  const isCandidate = new Uint8Array(count);
  for (const item of candidates) isCandidate[item] = 1;
  let floor = Number.POSITIVE_INFINITY;
  for (const item of candidates) floor = Math.min(floor, relevance[item]!);
  for (let item = 0; item < count; item++)
    if (!isCandidate[item] && relevance[item]! > floor) relevance[item] = floor;
}

/**
 * Adds what the conversation says to the pooled similarities: an answer gains a share of how much better the
 * question before it matches; turns of a speaker the question names, the user's own turns for a first-person question, and
 * dated answers to a question about time gain a bonus.
 */
function applyConversationCues(
  relevance: Float32Array,
  conversation: ConversationCues,
  settings: Required<AttentionSettings>,
): void {
  const { structure, cues } = conversation;
  const count = relevance.length;
  if (settings.contextWeight > 0 && structure.hasTurns) {
    const first = Float32Array.from(relevance);
    for (let item = 0; item < count; item++) {
      const previous = structure.previousTurn[item]!;
      if (structure.answersQuestion[item] && first[previous]! > first[item]!)
        relevance[item] = relevance[item]! + settings.contextWeight * (first[previous]! - first[item]!);
    }
  }
  const named = new Set(cues.namedSpeakers);
  if (settings.speakerWeight > 0 && named.size > 0)
    for (let item = 0; item < count; item++)
      if (named.has(structure.speakerIds[item]!)) relevance[item] = relevance[item]! + settings.speakerWeight;
  if (settings.selfWeight > 0 && cues.firstPerson && structure.hasSelf)
    for (let item = 0; item < count; item++)
      if (structure.selfItems[item]) relevance[item] = relevance[item]! + settings.selfWeight;
  if (settings.timeWeight > 0 && cues.asksTime)
    for (const item of structure.timeExpressions.keys())
      relevance[item] = relevance[item]! + settings.timeWeight;
}

/** Items dated in one of the periods (by timestamp, or by a date they name): a bonus each. */
function applyPeriods(
  relevance: Float32Array,
  index: UserIndex,
  conversation: ConversationCues,
  weight: number,
): void {
  const { periods } = conversation.cues;
  if (weight <= 0 || periods.length === 0) return;
  const inPeriod = (start: number, end: number) =>
    periods.some((period) => start < period.end && end > period.start);
  index.items.forEach((item, row) => {
    const expressions = conversation.structure.timeExpressions.get(row) ?? [];
    const dated =
      (item.timestamp !== undefined && inPeriod(item.timestamp, item.timestamp + 1)) ||
      expressions.some((expression) => inPeriod(expression.start, expression.end));
    if (dated) relevance[row] = relevance[row]! + weight;
  });
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
  conversation?: ConversationCues,
): UserEmbedding {
  const resolved = resolveAttentionSettings(settings);
  const count = index.items.length;
  const { ageDays, logWeights, kindIds } = index;
  const similarities = pieceSimilarities(index, queryVector, resolved.hubnessWeight);
  const relevance = new Float32Array(count);
  const bestPiece = new Int32Array(count);
  poolPieces(index, similarities, resolved.piecePooling === 'top2', relevance, bestPiece);
  if (index.calibration && resolved.feedbackWeight > 0 && resolved.feedbackPieces > 0)
    rescoreWithFeedback(index, similarities, resolved, relevance, bestPiece);
  if (conversation) {
    applyConversationCues(relevance, conversation, resolved);
    applyPeriods(relevance, index, conversation, resolved.timeWeight);
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
  return { weights, relevance, lexical, bestPiece, pieceRelevance: similarities, personaVector };
}
