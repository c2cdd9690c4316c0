// Measures what int8 vectors cost against float32, on real encoder vectors of real-looking histories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPersonalizer, type Encoder, type HistoryItemInput } from '@userplug/core';
import { buildUserIndex, embedUser } from '@userplug/core/internal';
import { createSqliteStore } from '@userplug/store-sqlite';

/** One user of the measurement: a history, questions, and for each question the ids of its evidence items. */
export interface RecallUser {
  userId: string;
  items: HistoryItemInput[];
  queries: { text: string; evidence: readonly string[] }[];
}

/** Settings of {@link measureQuantizationRecall}. */
export interface QuantizationRecallSettings {
  /** The encoder whose vectors are stored (the embedded default encoder for a realistic measurement). */
  encoder: Encoder;
  /** Users, histories and questions. */
  users: readonly RecallUser[];
  /** Size of the compared top lists. Default 10. */
  k?: number;
  /** K of the evidence recall. Default 5 (PersonaBench's protocol). */
  evidenceK?: number;
}

/** How int8 vectors change a personalization compared with float32. */
export interface QuantizationRecallResult {
  encoder: string;
  users: number;
  items: number;
  pieces: number;
  queries: number;
  /** Mean share of the k highest-weighted items that float32 and int8 have in common. */
  topKOverlap: number;
  /** Share of queries whose highest-weighted item is the same. */
  top1Agreement: number;
  /** Mean over queries of Σ |w_float32 − w_int8| over all items (0: identical, 2: disjoint). */
  meanWeightL1: number;
  /** Largest difference of one item's attention weight, over all queries. */
  maxWeightError: number;
  /** Smallest cosine between the float32 and int8 persona vectors, over all queries. */
  minPersonaCosine: number;
  /** Largest difference of one vector number (of unit vectors). */
  maxComponentError: number;
  /** Share of evidence items in the top `evidenceK` by weight, float32 and int8 (PersonaBench-style recall). */
  evidenceRecall: { k: number; float32: number; int8: number };
  /** Vector bytes per piece in each format. */
  bytesPerPiece: { float32: number; int8: number };
}

function topRows(weights: Float64Array, k: number): number[] {
  return Array.from(weights.keys())
    .sort((left, right) => weights[right]! - weights[left]!)
    .slice(0, k);
}

/**
 * Stores the users' histories (embedded by `encoder`) in a float32 SQLite store, copies the stored items into
 * an int8 store, reads both back, and compares the attention weights and persona vectors that each gives for
 * every question (core's `embedUser`, default attention settings).
 */
export async function measureQuantizationRecall(
  settings: QuantizationRecallSettings,
): Promise<QuantizationRecallResult> {
  const k = settings.k ?? 10;
  const evidenceK = settings.evidenceK ?? 5;
  const { encoder } = settings;
  const folder = mkdtempSync(join(tmpdir(), 'userplug-recall-'));
  const exact = createSqliteStore({ path: join(folder, 'float32.db') });
  const quantized = createSqliteStore({ path: join(folder, 'int8.db'), quantization: 'int8' });
  const totals = {
    items: 0,
    pieces: 0,
    queries: 0,
    overlap: 0,
    top1: 0,
    l1: 0,
    recallExact: 0,
    recallQuantized: 0,
  };
  let maxWeightError = 0;
  let minPersonaCosine = 1;
  let maxComponentError = 0;
  try {
    const personalizer = createPersonalizer({ encoder, store: exact });
    for (const user of settings.users) {
      await personalizer.ingest(user.userId, user.items);
      const exactItems = await exact.listItems(user.userId);
      await quantized.upsertItems(user.userId, exactItems);
      const quantizedItems = await quantized.listItems(user.userId);
      totals.items += exactItems.length;
      totals.pieces += exactItems.reduce((sum, item) => sum + item.pieceCount, 0);
      // float32 indexes, so the comparison shows the store's quantization alone.
      const exactIndex = buildUserIndex(exactItems, encoder.dim, encoder.id, { vectorPrecision: 'float32' });
      const quantizedIndex = buildUserIndex(quantizedItems, encoder.dim, encoder.id, {
        vectorPrecision: 'float32',
      });
      for (let piece = 0; piece < exactIndex.pieceMatrix.length; piece++) {
        maxComponentError = Math.max(
          maxComponentError,
          Math.abs(exactIndex.pieceMatrix[piece]! - quantizedIndex.pieceMatrix[piece]!),
        );
      }
      const queryVectors = await (encoder.encodeQueries ?? encoder.encode).call(
        encoder,
        user.queries.map((query) => query.text),
      );
      user.queries.forEach((query, position) => {
        const vector = Float32Array.from(queryVectors[position]!);
        const exactView = embedUser(exactIndex, vector, query.text);
        const quantizedView = embedUser(quantizedIndex, vector, query.text);
        const exactTop = topRows(exactView.weights, k);
        const quantizedTop = new Set(topRows(quantizedView.weights, k));
        totals.overlap += exactTop.filter((row) => quantizedTop.has(row)).length / exactTop.length;
        totals.top1 += exactTop[0] === topRows(quantizedView.weights, 1)[0] ? 1 : 0;
        let l1 = 0;
        exactView.weights.forEach((weight, row) => {
          const difference = Math.abs(weight - quantizedView.weights[row]!);
          l1 += difference;
          maxWeightError = Math.max(maxWeightError, difference);
        });
        totals.l1 += l1;
        let cosine = 0;
        exactView.personaVector.forEach((value, column) => {
          cosine += value * quantizedView.personaVector[column]!;
        });
        minPersonaCosine = Math.min(minPersonaCosine, cosine);
        if (query.evidence.length > 0) {
          const evidence = new Set(query.evidence);
          const found = (weights: Float64Array) =>
            topRows(weights, evidenceK).filter((row) => evidence.has(exactItems[row]!.id)).length /
            evidence.size;
          totals.recallExact += found(exactView.weights);
          totals.recallQuantized += found(quantizedView.weights);
        }
        totals.queries++;
      });
    }
    await personalizer.dispose();
  } finally {
    await exact.close();
    await quantized.close();
    rmSync(folder, { recursive: true, force: true });
  }
  const withEvidence = settings.users.reduce(
    (sum, user) => sum + user.queries.filter((query) => query.evidence.length > 0).length,
    0,
  );
  return {
    encoder: encoder.id,
    users: settings.users.length,
    items: totals.items,
    pieces: totals.pieces,
    queries: totals.queries,
    topKOverlap: totals.overlap / totals.queries,
    top1Agreement: totals.top1 / totals.queries,
    meanWeightL1: totals.l1 / totals.queries,
    maxWeightError,
    minPersonaCosine,
    maxComponentError,
    evidenceRecall: {
      k: evidenceK,
      float32: withEvidence > 0 ? totals.recallExact / withEvidence : Number.NaN,
      int8: withEvidence > 0 ? totals.recallQuantized / withEvidence : Number.NaN,
    },
    bytesPerPiece: { float32: encoder.dim * 4, int8: encoder.dim + 4 },
  };
}

/** PersonaBench users (sessions as items, non-subjective questions with their evidence), read at run time. */
export async function personaBenchRecallUsers(root: string, noise = '0.5'): Promise<RecallUser[]> {
  // The evals package reads the CC BY-NC-SA data from ../shared at run time; it is never copied.
  const { loadPersonaBench, sessionToHistoryItem } = await import('@userplug/evals');
  const dataset = await loadPersonaBench({ root, community: 0, noise });
  return dataset.people.map((person) => ({
    userId: person.name,
    items: person.sessions.map(sessionToHistoryItem),
    queries: person.questions
      .filter((question) => question.type !== 'Subjective')
      .map((question) => ({
        text: question.question,
        evidence: [...new Set(Object.values(question.evidence).flat())],
      })),
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // node --conditions=@userplug/source --import tsx packages/store-sqlite/bench/quantization-recall.ts [personabench root] [cache dir]
  const { loadEvalEncoder } = await import('@userplug/evals');
  const root = process.argv[2] ?? '../shared/data/personabench';
  const encoder = await loadEvalEncoder({ cacheDirectory: process.argv[3] ?? false });
  const result = await measureQuantizationRecall({ encoder, users: await personaBenchRecallUsers(root) });
  console.log(JSON.stringify(result, null, 2));
  await encoder.dispose();
}
