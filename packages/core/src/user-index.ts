import { Bm25Index } from './bm25-index.js';
import { type CalibrationSettings, calibratePieces, type PieceCalibration } from './calibrate-pieces.js';
import { minePhrases, type PhraseCandidate } from './mine-phrases.js';
import type { StoredItem } from './store.js';
import { type SignalSummary, summarizeSignals } from './summarize-signals.js';
import { StoreError } from './userplug-error.js';
import {
  createQuantizedVectorKernel,
  createVectorKernel,
  type VectorKernel,
  type VectorPrecision,
} from './vector-kernel.js';
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
  /**
   * Every piece vector of every item as float32, row-major; an item's pieces are consecutive rows. With int8
   * rows (the default) this copy is made on first read and then kept (4 bytes a number): query-time code reads
   * single rows through `kernel.pieceRow` instead.
   */
  readonly pieceMatrix: Float32Array;
  /** The rows' storage (float32 or int8) and the two passes over them (WebAssembly SIMD where available). */
  kernel: VectorKernel;
  /** Item `i`'s pieces are rows `pieceStart[i]` to `pieceStart[i + 1] - 1` (length items + 1). */
  pieceStart: Int32Array;
  /**
   * Unit mean of each item's pieces as float32, row-major (the same array as `pieceMatrix` when no item has several
   * pieces). Made on first read with int8 rows, like `pieceMatrix`; query-time code reads `kernel.itemRow`.
   */
  readonly itemMatrix: Float32Array;
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
export interface IndexSettings extends CalibrationSettings {
  /**
   * How the index keeps piece and item vectors in memory. `int8` (default): one byte a number plus a scale per
   * row, a quarter of the memory and faster passes on large users (PersonaBench community_0 Recall@5 within
   * 0.004 of float32 at every noise level). `float32`: exact.
   */
  vectorPrecision?: VectorPrecision;
}

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
  const pieceCount = pieceStart[count]!;
  // Single-piece items are their own mean: share the rows instead of copying them.
  const floatKernel =
    settings.vectorPrecision === 'float32'
      ? createVectorKernel(pieceCount, count, dimension, !multiPiece)
      : undefined;
  const kernel = floatKernel ?? createQuantizedVectorKernel(pieceCount, count, dimension, !multiPiece);
  const lexical = new Bm25Index();
  const ageDays = new Float32Array(count).fill(Number.NaN);
  const logWeights = new Float32Array(count);
  const ratings = new Float32Array(count).fill(Number.NaN);
  let newest = Number.NEGATIVE_INFINITY;
  for (const item of items)
    if (item.timestamp !== undefined && item.timestamp > newest) newest = item.timestamp;

  const userVector = new Float32Array(dimension);
  const kindVectors = new Map<string, Float32Array>();
  const mean = new Float32Array(dimension);
  let historyTokens = 0;
  items.forEach((item, row) => {
    for (let piece = 0; piece < item.pieceCount; piece++)
      kernel.setPieceRow(pieceStart[row]! + piece, item.vectors, piece * dimension);
    let itemVector = item.vectors;
    if (multiPiece) {
      mean.fill(0);
      for (let piece = 0; piece < item.pieceCount; piece++) addScaledRow(mean, item.vectors, piece, 1);
      itemVector = normalizeInPlace(mean);
      kernel.setItemRow(row, itemVector);
    }
    const weight = item.weight ?? 1;
    addScaledRow(userVector, itemVector, 0, weight);
    const kind = item.kind ?? 'item';
    let kindVector = kindVectors.get(kind);
    if (!kindVector) {
      kindVector = new Float32Array(dimension);
      kindVectors.set(kind, kindVector);
    }
    addScaledRow(kindVector, itemVector, 0, weight);
    lexical.add(item.label === undefined ? item.text : `${item.text}\n${item.label}`);
    if (item.timestamp !== undefined) ageDays[row] = (newest - item.timestamp) / millisecondsPerDay;
    logWeights[row] = weight > 0 ? Math.log(weight) : Number.NEGATIVE_INFINITY;
    if (item.rating !== undefined) ratings[row] = item.rating;
    historyTokens += item.tokenCount;
  });
  const kinds = interned(items.map((item) => item.kind));
  const labels = interned(items.map((item) => item.label));
  normalizeInPlace(userVector);
  for (const vector of kindVectors.values()) normalizeInPlace(vector);

  // Calibration reads the stored float32 vectors, not the index's rows.
  const pieceItem = new Int32Array(pieceCount);
  for (let row = 0; row < count; row++) pieceItem.fill(row, pieceStart[row]!, pieceStart[row + 1]!);
  const storedPiece = (piece: number) => {
    const item = pieceItem[piece]!;
    const offset = (piece - pieceStart[item]!) * dimension;
    return items[item]!.vectors.subarray(offset, offset + dimension);
  };
  const calibration = calibratePieces(storedPiece, pieceCount, dimension, settings);
  const floatMatrix = (which: 'pieces' | 'items', rows: number, rowOf: (row: number) => Float32Array) => {
    if (floatKernel) return floatKernel[which];
    const matrix = new Float32Array(rows * dimension);
    for (let row = 0; row < rows; row++) matrix.set(rowOf(row), row * dimension);
    return matrix;
  };
  let pieceMatrix: Float32Array | undefined;
  let itemMatrix: Float32Array | undefined;

  const recentTexts = items.slice(-phraseMiningItemLimit).map((item) => item.text);
  return {
    items,
    dimension,
    get pieceMatrix() {
      if (pieceMatrix === undefined) pieceMatrix = floatMatrix('pieces', pieceCount, kernel.pieceRow);
      return pieceMatrix;
    },
    kernel,
    pieceStart,
    get itemMatrix() {
      if (!multiPiece) return this.pieceMatrix;
      if (itemMatrix === undefined) itemMatrix = floatMatrix('items', count, kernel.itemRow);
      return itemMatrix;
    },
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
    calibration,
  };
}
