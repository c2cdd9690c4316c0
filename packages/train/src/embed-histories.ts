import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createEstimatingTokenCounter,
  createMemoryStore,
  createPersonalizer,
  type Encoder,
  type StoredItem,
} from '@userplug/core';
import type { EmbeddedHistory, TrainingHistory } from './training-data.js';

/** Options of {@link embedHistories}. */
export interface EmbedHistoriesOptions {
  histories: readonly TrainingHistory[];
  /** The encoder; the trained artifact only works with personalizers that use the same one. */
  encoder: Encoder;
  /**
   * A JSON-lines file of embedded users, appended after each user and read back first, so an interrupted
   * run embeds each user once. Default none.
   */
  cacheFile?: string;
  /** Called after each user. */
  onProgress?: (event: { done: number; total: number; items: number }) => void;
}

function historyHash(encoderId: string, history: TrainingHistory): string {
  return createHash('sha256')
    .update(JSON.stringify([encoderId, history.userId, history.items]))
    .digest('hex');
}

function encodeItem(item: StoredItem): Record<string, unknown> {
  return {
    ...item,
    vectors: Buffer.from(item.vectors.buffer, item.vectors.byteOffset, item.vectors.byteLength).toString(
      'base64',
    ),
  };
}

function decodeItem(value: Record<string, unknown>): StoredItem {
  const bytes = Buffer.from(String(value.vectors), 'base64');
  const vectors = new Float32Array(bytes.length / 4);
  new Uint8Array(vectors.buffer).set(bytes);
  return { ...(value as unknown as StoredItem), vectors };
}

async function readCache(path: string): Promise<Map<string, EmbeddedHistory>> {
  const cached = new Map<string, EmbeddedHistory>();
  if (!existsSync(path)) return cached;
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line.trim().length === 0) continue;
    try {
      const record = JSON.parse(line) as { hash: string; userId: string; items: Record<string, unknown>[] };
      cached.set(record.hash, { userId: record.userId, items: record.items.map(decodeItem) });
    } catch {
      // A torn last line (a killed run) is embedded again.
    }
  }
  return cached;
}

/**
 * Embeds users' histories with core's own pipeline (validation, pieces, normalization), so training sees
 * exactly the vectors a personalizer stores. No LLM call; each user's items are embedded once per cache file.
 */
export async function embedHistories(options: EmbedHistoriesOptions): Promise<EmbeddedHistory[]> {
  const { encoder } = options;
  const cache = options.cacheFile ? await readCache(options.cacheFile) : new Map<string, EmbeddedHistory>();
  if (options.cacheFile) await mkdir(dirname(options.cacheFile), { recursive: true });
  const store = createMemoryStore();
  const personalizer = createPersonalizer({
    encoder,
    store,
    tokenCounter: await createEstimatingTokenCounter(),
    embeddingCacheSize: 2_000,
  });
  const embedded: EmbeddedHistory[] = [];
  try {
    for (const [position, history] of options.histories.entries()) {
      const hash = historyHash(encoder.id, history);
      let result = cache.get(hash);
      if (!result) {
        const userId = `train:${position}`;
        await personalizer.ingest(userId, history.items);
        result = { userId: history.userId, items: await store.listItems(userId) };
        await personalizer.forget(userId);
        if (options.cacheFile) {
          const record = { hash, userId: history.userId, items: result.items.map(encodeItem) };
          await appendFile(options.cacheFile, `${JSON.stringify(record)}\n`);
        }
      }
      embedded.push(result);
      options.onProgress?.({
        done: position + 1,
        total: options.histories.length,
        items: result.items.length,
      });
    }
  } finally {
    await personalizer.dispose();
  }
  return embedded;
}

/** Options of {@link embedTexts}. */
export interface EmbedTextsOptions {
  texts: readonly string[];
  encoder: Encoder;
  /** `query`: as core embeds prompts (`encodeQueries`, whole text); `document`: `encode`. */
  side: 'query' | 'document';
  /** A JSON-lines cache of vectors keyed by text hash, appended and read back (for resumed runs). Default none. */
  cacheFile?: string;
  /** Texts per encoder call. Default 64. */
  batchSize?: number;
}

/** Unit vectors of texts, each distinct text embedded once (and once per cache file). */
export async function embedTexts(options: EmbedTextsOptions): Promise<Float32Array[]> {
  const { encoder, side } = options;
  const key = (text: string) =>
    createHash('sha256').update(`${encoder.id}\u0000${side}\u0000${text}`).digest('hex');
  const vectors = new Map<string, Float32Array>();
  if (options.cacheFile && existsSync(options.cacheFile)) {
    for (const line of (await readFile(options.cacheFile, 'utf8')).split('\n')) {
      try {
        const record = JSON.parse(line) as { key: string; vector: string };
        const bytes = Buffer.from(record.vector, 'base64');
        const vector = new Float32Array(bytes.length / 4);
        new Uint8Array(vector.buffer).set(bytes);
        vectors.set(record.key, vector);
      } catch {
        // Blank or torn lines are embedded again.
      }
    }
  }
  const missing = [...new Set(options.texts)].filter((text) => !vectors.has(key(text)));
  const embed =
    side === 'query' && encoder.encodeQueries
      ? encoder.encodeQueries.bind(encoder)
      : encoder.encode.bind(encoder);
  const batchSize = options.batchSize ?? 64;
  if (options.cacheFile) await mkdir(dirname(options.cacheFile), { recursive: true });
  for (let start = 0; start < missing.length; start += batchSize) {
    const batch = missing.slice(start, start + batchSize);
    const embedded = await embed(batch);
    const lines: string[] = [];
    batch.forEach((text, position) => {
      const vector = Float32Array.from(embedded[position]!);
      let norm = 0;
      for (const value of vector) norm += value * value;
      norm = Math.sqrt(norm) || 1;
      for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! / norm;
      vectors.set(key(text), vector);
      lines.push(JSON.stringify({ key: key(text), vector: Buffer.from(vector.buffer).toString('base64') }));
    });
    if (options.cacheFile) await appendFile(options.cacheFile, `${lines.join('\n')}\n`);
  }
  return options.texts.map((text) => vectors.get(key(text))!);
}
