import { InvalidArgumentError, type StoredItem } from '@userplug/core';
import {
  buildUserIndex,
  createSeededRandom,
  cutIntoPieces,
  mixSeed,
  type UserIndex,
} from '@userplug/core/internal';
import type { ScoringExample } from './scoring-graph.js';
import type { IndexSettings } from './train-loop.js';
import type { EmbeddedHistory } from './training-data.js';

/** A user ready for training: core's index over their items, and run-wide kind ids. */
export interface PreparedUser {
  userId: string;
  index: UserIndex;
  /** Run-wide kind id of each item (index into `PreparedUsers.kindNames`), -1 for none. */
  kindIds: Int32Array;
}

/** Every user of a run, with the kinds they use. */
export interface PreparedUsers {
  users: PreparedUser[];
  kindNames: string[];
  encoder: { id: string; dim: number };
}

const millisecondsPerDay = 86_400_000;

/**
 * Builds core's user index for every user (items in time order when all are dated, else as stored),
 * so training scores exactly what a personalizer scores. All items must come from one encoder.
 */
export function prepareUsers(
  histories: readonly EmbeddedHistory[],
  indexSettings: IndexSettings = {},
): PreparedUsers {
  const first = histories.find((history) => history.items.length > 0)?.items[0];
  if (!first) {
    throw new InvalidArgumentError(
      'data',
      'The training data holds no history items. Pass users with items.',
    );
  }
  const encoderId = first.encoderId;
  const dim = first.vectors.length / first.pieceCount;
  const kindNames: string[] = [];
  const kindLookup = new Map<string, number>();
  const users = histories
    .filter((history) => history.items.length > 0)
    .map((history): PreparedUser => {
      const dated = history.items.every((item) => item.timestamp !== undefined);
      const items: StoredItem[] = dated
        ? history.items
            .map((item, position) => ({ item, position }))
            .sort(
              (left, right) => left.item.timestamp! - right.item.timestamp! || left.position - right.position,
            )
            .map(({ item }) => item)
        : [...history.items];
      const index = buildUserIndex(items, dim, encoderId, indexSettings);
      const kindIds = Int32Array.from(items, (item) => {
        if (item.kind === undefined) return -1;
        let id = kindLookup.get(item.kind);
        if (id === undefined) {
          id = kindNames.length;
          kindNames.push(item.kind);
          kindLookup.set(item.kind, id);
        }
        return id;
      });
      return { userId: history.userId, index, kindIds };
    });
  return { users, kindNames, encoder: { id: encoderId, dim } };
}

/** Core's lexical feature for a query over the visible items: BM25 scaled so the best visible item has 1. */
export function lexicalFeature(index: UserIndex, queryText: string, visible: Uint8Array): Float32Array {
  const scores = index.lexical.score(queryText);
  let best = 0;
  scores.forEach((score, item) => {
    if (!visible[item]) scores[item] = 0;
    else if (score > best) best = score;
  });
  if (best > 0) for (let item = 0; item < scores.length; item++) scores[item] = scores[item]! / best;
  return scores;
}

/** Core's recency feature: age in days before the newest visible dated item, NaN when undated. */
export function ageFeature(index: UserIndex, visible: Uint8Array): Float32Array {
  let newest = Number.NEGATIVE_INFINITY;
  index.items.forEach((item, row) => {
    if (visible[row] && item.timestamp !== undefined && item.timestamp > newest) newest = item.timestamp;
  });
  return Float32Array.from(index.items, (item) =>
    item.timestamp === undefined ? Number.NaN : (newest - item.timestamp) / millisecondsPerDay,
  );
}

function unitMean(matrix: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const mean = new Float32Array(dim);
  for (const row of rows)
    for (let column = 0; column < dim; column++) mean[column]! += matrix[row * dim + column]!;
  let norm = 0;
  for (const value of mean) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return mean.map((value) => value / norm);
}

/** Options of {@link selfSupervisedExamples}. */
export interface SelfSupervisedExampleOptions {
  /** Seed of the draws (which items are held out, which piece is the query). */
  seed: number;
  /** Fewest earlier items a held-out item needs. Default 3. */
  minHistory?: number;
  /** Most held-out items per user (drawn evenly at random). Default 200. */
  maxExamplesPerUser?: number;
  /** Words per piece, as the personalizer cuts items (core's `maxPieceWordsFor(encoder)`). */
  maxPieceWords: number;
}

/**
 * Query-as-Anchor's future task without labels: for a held-out item `t` of a user, the persona is built from
 * the items before it, queried with one piece of `t` drawn at random among all but its first (the first carries
 * the header: who, with whom, when; the others are messages or products, the closest thing in a history to a
 * prompt; an item of one piece is its own query), and must land near the rest of `t` (the unit mean of its
 * other pieces). Nothing but the users' own items is read.
 */
export function selfSupervisedExamples(
  prepared: PreparedUsers,
  options: SelfSupervisedExampleOptions,
): ScoringExample[] {
  const minHistory = options.minHistory ?? 3;
  const maxExamples = options.maxExamplesPerUser ?? 200;
  const dim = prepared.encoder.dim;
  const examples: ScoringExample[] = [];
  prepared.users.forEach((user, position) => {
    const { index } = user;
    const count = index.items.length;
    const centre = new Float32Array(dim);
    for (let row = 0; row < count * dim; row++) centre[row % dim]! += index.itemMatrix[row]! / count;
    const candidates = Array.from(
      { length: Math.max(0, count - minHistory) },
      (_, offset) => minHistory + offset,
    );
    if (candidates.length === 0) return;
    const random = createSeededRandom(mixSeed(options.seed, 'self-supervised', user.userId));
    const chosen = random
      .shuffle([...candidates])
      .slice(0, maxExamples)
      .sort((left, right) => left - right);
    for (const row of chosen) {
      const item = index.items[row]!;
      const visible = new Uint8Array(count);
      visible.fill(1, 0, row);
      const first = index.pieceStart[row]!;
      const pieces = index.pieceStart[row + 1]! - first;
      // The first piece carries the item's header (who, when): a prompt-like query is one of the others.
      const piece = pieces > 1 ? 1 + random.below(pieces - 1) : 0;
      const query = index.pieceMatrix.slice((first + piece) * dim, (first + piece + 1) * dim);
      // The query's words as core embedded them; without a matching cut, no lexical score (never the whole target).
      const texts = cutIntoPieces(item.text, { maxWords: options.maxPieceWords });
      const queryText = texts.length === pieces ? texts[piece]!.content : pieces === 1 ? item.text : '';
      const others = Array.from({ length: pieces }, (_, offset) => first + offset).filter(
        (_, offset) => offset !== piece,
      );
      const target =
        others.length > 0
          ? unitMean(index.pieceMatrix, dim, others)
          : index.itemMatrix.slice(row * dim, (row + 1) * dim);
      examples.push({
        user: position,
        query,
        lexical: lexicalFeature(index, queryText, visible),
        ageDays: ageFeature(index, visible),
        visible,
        target,
        targetKey: item.textHash,
        centre,
      });
    }
  });
  return examples;
}
