import { Bm25Index } from './bm25-index.js';
import { type CalibrationSettings, calibratePieces, type PieceCalibration } from './calibrate-pieces.js';
import { minePhrases, type PhraseCandidate } from './mine-phrases.js';
import type { StoredItem } from './store.js';
import { type SignalSummary, summarizeSignals } from './summarize-signals.js';
import { StoreError } from './userplug-error.js';
import { createVectorKernel, type VectorKernel } from './vector-kernel.js';
import { addScaledRow, normalizeInPlace } from './vector-math.js';

/**
 * Everything about one user that does not depend on the query, built once per history revision:
 * the piece and item matrices, the lexical index, the long-term user vector and per-kind vectors.
 */
export interface UserIndex {
  /** The user's items, in store order. Row `i` of `itemMatrix` is `items[i]`. */
  items: readonly StoredItem[];
  /** Vector length. */
  dimension: number;
  /** Every piece vector of every item, row-major; an item's pieces are consecutive rows. */
  pieceMatrix: Float32Array;
  /** The matrices' storage and the two passes over them (WebAssembly SIMD where available). */
  kernel: VectorKernel;
  /** Item `i`'s pieces are rows `pieceStart[i]` to `pieceStart[i + 1] - 1` (length items + 1). */
  pieceStart: Int32Array;
  /** Unit mean of each item's pieces, row-major (the same array as `pieceMatrix` when no item has several pieces). */
  itemMatrix: Float32Array;
  /** BM25 over item text and label. */
  lexical: Bm25Index;
  /** Age of each item in days before the newest dated item; NaN when undated. */
  ageDays: Float32Array;
  /** log(weight) of each item: 0 for the default weight 1, -Infinity for weight 0. */
  logWeights: Float32Array;
  /** Index into `kindNames` of each item's kind, -1 when it has none. */
  kindIds: Int32Array;
  /** Distinct kinds. */
  kindNames: string[];
  /** Each item's rating, NaN when unrated. */
  ratings: Float32Array;
  /** Index into `labelNames` of each item's label, -1 when it has none. */
  labelIds: Int32Array;
  /** Distinct labels. */
  labelNames: string[];
  /** Query-independent user vector (long-term profile): the weighted mean of item vectors. */
  userVector: Float32Array;
  /** Mean vector per item kind (Query-as-Anchor's modality level). */
  kindVectors: Map<string, Float32Array>;
  /** Typed-signal facts. */
  signals: SignalSummary;
  /** Sum of the items' token counts. */
  historyTokens: number;
  /** Key phrases mined from the history; their vectors are filled in by the personalizer. */
  phrases: PhraseCandidate[];
  /** Unit vectors of `phrases`, row-major; empty until embedded. */
  phraseMatrix: Float32Array;
  /**
   * Per-user whitening and per-piece hubness, so query-time similarities are whitened cosines minus a hubness
   * penalty. Undefined when calibration is off or the user has too few pieces.
   */
  calibration: PieceCalibration | undefined;
}

/** Settings of the query-independent part of a user's index (used when it is built). Every field has a default. */
export type IndexSettings = CalibrationSettings;

const phraseMiningItemLimit = 5_000;
const millisecondsPerDay = 86_400_000;

function interned(values: (string | undefined)[]): { ids: Int32Array; names: string[] } {
  const names: string[] = [];
  const lookup = new Map<string, number>();
  const ids = new Int32Array(values.length);
  values.forEach((value, row) => {
    if (value === undefined) {
      ids[row] = -1;
      return;
    }
    let id = lookup.get(value);
    if (id === undefined) {
      id = names.length;
      names.push(value);
      lookup.set(value, id);
    }
    ids[row] = id;
  });
  return { ids, names };
}

/** Builds a user's index from stored items, all of which must come from one encoder. */
export function buildUserIndex(
  items: readonly StoredItem[],
  dimension: number,
  encoderId: string,
  settings: IndexSettings = {},
): UserIndex {
  const count = items.length;
  const pieceStart = new Int32Array(count + 1);
  let multiPiece = false;
  items.forEach((item, row) => {
    if (item.encoderId !== encoderId) {
      throw new StoreError(
        `Item "${item.id}" was embedded by encoder "${item.encoderId}", but this personalizer uses "${encoderId}". ` +
          'Vectors of different encoders cannot be mixed: use the same encoder, or forget the user and ingest again.',
      );
    }
    if (item.vectors.length !== item.pieceCount * dimension || item.pieceCount < 1) {
      throw new StoreError(
        `Item "${item.id}" holds ${item.vectors.length} numbers for ${item.pieceCount} pieces of dimension ${dimension}. ` +
          'The stored vectors are damaged: ingest the item again.',
      );
    }
    pieceStart[row + 1] = pieceStart[row]! + item.pieceCount;
    if (item.pieceCount > 1) multiPiece = true;
  });
  // Single-piece items are their own mean: share the matrix instead of copying it.
  const kernel = createVectorKernel(pieceStart[count]!, count, dimension, !multiPiece);
  const pieceMatrix = kernel.pieces;
  const itemMatrix = kernel.items;
  const lexical = new Bm25Index();
  const ageDays = new Float32Array(count).fill(Number.NaN);
  const logWeights = new Float32Array(count);
  const ratings = new Float32Array(count).fill(Number.NaN);
  let newest = Number.NEGATIVE_INFINITY;
  for (const item of items)
    if (item.timestamp !== undefined && item.timestamp > newest) newest = item.timestamp;

  let historyTokens = 0;
  items.forEach((item, row) => {
    pieceMatrix.set(item.vectors, pieceStart[row]! * dimension);
    if (multiPiece) {
      const mean = itemMatrix.subarray(row * dimension, (row + 1) * dimension);
      for (let piece = 0; piece < item.pieceCount; piece++) addScaledRow(mean, item.vectors, piece, 1);
      normalizeInPlace(mean);
    }
    lexical.add(item.label === undefined ? item.text : `${item.text}\n${item.label}`);
    if (item.timestamp !== undefined) ageDays[row] = (newest - item.timestamp) / millisecondsPerDay;
    const weight = item.weight ?? 1;
    logWeights[row] = weight > 0 ? Math.log(weight) : Number.NEGATIVE_INFINITY;
    if (item.rating !== undefined) ratings[row] = item.rating;
    historyTokens += item.tokenCount;
  });
  const kinds = interned(items.map((item) => item.kind));
  const labels = interned(items.map((item) => item.label));

  const userVector = new Float32Array(dimension);
  const kindVectors = new Map<string, Float32Array>();
  items.forEach((item, row) => {
    const weight = item.weight ?? 1;
    addScaledRow(userVector, itemMatrix, row, weight);
    const kind = item.kind ?? 'item';
    let kindVector = kindVectors.get(kind);
    if (!kindVector) {
      kindVector = new Float32Array(dimension);
      kindVectors.set(kind, kindVector);
    }
    addScaledRow(kindVector, itemMatrix, row, weight);
  });
  normalizeInPlace(userVector);
  for (const vector of kindVectors.values()) normalizeInPlace(vector);

  const recentTexts = items.slice(-phraseMiningItemLimit).map((item) => item.text);
  return {
    items,
    dimension,
    pieceMatrix,
    kernel,
    pieceStart,
    itemMatrix,
    lexical,
    ageDays,
    logWeights,
    kindIds: kinds.ids,
    kindNames: kinds.names,
    ratings,
    labelIds: labels.ids,
    labelNames: labels.names,
    userVector,
    kindVectors,
    signals: summarizeSignals(items),
    historyTokens,
    phrases: minePhrases(recentTexts),
    phraseMatrix: new Float32Array(0),
    calibration: calibratePieces(pieceMatrix, pieceStart[count]!, dimension, settings),
  };
}
