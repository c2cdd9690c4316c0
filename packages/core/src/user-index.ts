import { Bm25Index } from './bm25-index.js';
import { minePhrases, type PhraseCandidate } from './mine-phrases.js';
import type { StoredItem } from './store.js';
import { type SignalSummary, summarizeSignals } from './summarize-signals.js';
import { StoreError } from './userplug-error.js';
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
  /** Every piece vector of every item, row-major. */
  pieceMatrix: Float32Array;
  /** For each piece row, the index of its item. */
  pieceItem: Int32Array;
  /** Unit mean of each item's pieces, row-major. */
  itemMatrix: Float32Array;
  /** BM25 over item text and label. */
  lexical: Bm25Index;
  /** Age of each item in days before the newest dated item; NaN when undated. */
  ageDays: Float32Array;
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
}

const phraseMiningItemLimit = 5_000;
const millisecondsPerDay = 86_400_000;

/** Builds a user's index from stored items, all of which must come from one encoder. */
export function buildUserIndex(
  items: readonly StoredItem[],
  dimension: number,
  encoderId: string,
): UserIndex {
  let pieceTotal = 0;
  for (const item of items) {
    if (item.encoderId !== encoderId) {
      throw new StoreError(
        `Item "${item.id}" was embedded by encoder "${item.encoderId}", but this personalizer uses "${encoderId}". ` +
          'Vectors of different encoders cannot be mixed: use the same encoder, or forget the user and ingest again.',
      );
    }
    if (item.vectors.length !== item.pieceCount * dimension) {
      throw new StoreError(
        `Item "${item.id}" holds ${item.vectors.length} numbers for ${item.pieceCount} pieces of dimension ${dimension}. ` +
          'The stored vectors are damaged: ingest the item again.',
      );
    }
    pieceTotal += item.pieceCount;
  }
  const pieceMatrix = new Float32Array(pieceTotal * dimension);
  const pieceItem = new Int32Array(pieceTotal);
  const itemMatrix = new Float32Array(items.length * dimension);
  const lexical = new Bm25Index();
  const ageDays = new Float32Array(items.length).fill(Number.NaN);
  let newest = Number.NEGATIVE_INFINITY;
  for (const item of items)
    if (item.timestamp !== undefined && item.timestamp > newest) newest = item.timestamp;

  let pieceRow = 0;
  let historyTokens = 0;
  items.forEach((item, itemRow) => {
    pieceMatrix.set(item.vectors, pieceRow * dimension);
    const mean = itemMatrix.subarray(itemRow * dimension, (itemRow + 1) * dimension);
    for (let piece = 0; piece < item.pieceCount; piece++) {
      pieceItem[pieceRow + piece] = itemRow;
      addScaledRow(mean, item.vectors, piece, 1);
    }
    normalizeInPlace(mean);
    pieceRow += item.pieceCount;
    lexical.add(item.label === undefined ? item.text : `${item.text}\n${item.label}`);
    if (item.timestamp !== undefined) ageDays[itemRow] = (newest - item.timestamp) / millisecondsPerDay;
    historyTokens += item.tokenCount;
  });

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
    pieceItem,
    itemMatrix,
    lexical,
    ageDays,
    userVector,
    kindVectors,
    signals: summarizeSignals(items),
    historyTokens,
    phrases: minePhrases(recentTexts),
    phraseMatrix: new Float32Array(0),
  };
}
