import { contentHash } from './content-hash.js';
import type { EmbeddingCache } from './embedding-cache.js';
import type { Encoder } from './encoder.js';
import type { HistoryItem } from './history-item.js';
import { cutIntoPieces, type PieceSettings } from './split-into-pieces.js';
import type { StoredItem } from './store.js';
import type { TokenCounter } from './token-counter.js';
import { AbortError, EncoderError, throwIfAborted } from './userplug-error.js';
import { normalizeInPlace } from './vector-math.js';

/** What embedding a batch of items needs. */
export interface EmbedItemsContext {
  encoder: Encoder;
  cache: EmbeddingCache;
  tokenCounter: TokenCounter;
  /** Most words per embedded piece. */
  maxPieceWords: number;
  /** Looks up vectors already stored for equal texts. */
  findStoredVectors?: (
    textHashes: string[],
  ) => Promise<Map<string, { vectors: Float32Array; pieceCount: number }>>;
  /** Cancels embedding; passed to the encoder. */
  signal?: AbortSignal;
}

/** What embedding a batch cost. */
export interface EmbedItemsStatistics {
  /** Texts sent to the encoder (not found in a cache or the store). */
  embeddedTexts: number;
  /** Pieces sent to the encoder. */
  embeddedPieces: number;
  /** Texts whose vectors came from a cache or the store. */
  reusedTexts: number;
}

/** Number of words per piece for an encoder that reads about `maxInputTokens` tokens. */
export function maxPieceWordsFor(encoder: Encoder): number {
  // English runs about 1.3 tokens a word; stay under the limit with room for rare words.
  return encoder.maxInputTokens === undefined ? 300 : Math.max(16, Math.floor(encoder.maxInputTokens * 0.6));
}

// Bumped when `cutIntoPieces` cuts differently (2: one piece per sentence of a chat message), so that
// re-ingesting a history after an upgrade re-cuts and re-embeds its items instead of keeping the old pieces.
const pieceCutVersion = 2;

/** Whether an item is a chat turn: its text is one message, cut per sentence like a transcript's messages. */
export function isChatTurn(item: Pick<HistoryItem, 'speaker'>): boolean {
  return item.speaker !== undefined;
}

/** How an item's text is cut into pieces: the same at ingest (embedding) and at query time (quoting). */
export function pieceSettingsOf(item: Pick<HistoryItem, 'speaker'>, maxPieceWords: number): PieceSettings {
  return isChatTurn(item) ? { maxWords: maxPieceWords, message: true } : { maxWords: maxPieceWords };
}

/** Key of an item's embedding: its text, and whether it is cut as a chat message. */
export function textHashOf(item: Pick<HistoryItem, 'text' | 'speaker'>): string {
  return contentHash(isChatTurn(item) ? `\u0000message\u0000${item.text}` : item.text);
}

/** Hash of everything an item says, and of how it is cut, so re-ingesting an unchanged item is a no-op. */
export function itemHashOf(item: HistoryItem): string {
  const fields: unknown[] = [
    pieceCutVersion,
    item.id,
    item.text,
    item.kind,
    item.timestamp,
    item.rating,
    item.label,
    item.weight,
    item.meta,
  ];
  // Appended only when present, so items without conversation fields keep the hashes they were stored with.
  if (
    item.speaker !== undefined ||
    item.self !== undefined ||
    item.conversationId !== undefined ||
    item.sessionId !== undefined
  )
    fields.push(item.speaker, item.self, item.conversationId, item.sessionId);
  return contentHash(JSON.stringify(fields));
}

function checkVectors(encoder: Encoder, vectors: Float32Array[], expected: number): void {
  if (vectors.length !== expected) {
    throw new EncoderError(
      `Encoder "${encoder.id}" returned ${vectors.length} vectors for ${expected} texts. The encoder must return one vector per text.`,
      { encoderId: encoder.id },
    );
  }
  for (const vector of vectors) {
    if (vector.length !== encoder.dim) {
      throw new EncoderError(
        `Encoder "${encoder.id}" declares dim ${encoder.dim} but returned a vector of length ${vector.length}. Fix its \`dim\`.`,
        { encoderId: encoder.id },
      );
    }
  }
}

/** Embeds validated items (each text once: cache, then store, then encoder) into storable items. */
export async function embedHistoryItems(
  items: readonly HistoryItem[],
  context: EmbedItemsContext,
): Promise<{ items: StoredItem[]; statistics: EmbedItemsStatistics }> {
  const { encoder, cache } = context;
  const textHashes = items.map(textHashOf);
  const found = new Map<string, { vectors: Float32Array; pieceCount: number }>();
  const missing: string[] = [];
  for (const hash of new Set(textHashes)) {
    const cached = cache.get(encoder.id, hash);
    if (cached) found.set(hash, cached);
    else missing.push(hash);
  }
  if (missing.length > 0 && context.findStoredVectors) {
    for (const [hash, stored] of await context.findStoredVectors(missing)) {
      found.set(hash, stored);
      cache.set(encoder.id, hash, stored);
    }
  }

  const pieceTexts: string[] = [];
  const pending: { hash: string; start: number; count: number }[] = [];
  const queued = new Set<string>();
  items.forEach((item, index) => {
    const hash = textHashes[index]!;
    if (found.has(hash) || queued.has(hash)) return;
    queued.add(hash);
    // The encoder reads each piece's content (chat lines without their speaker label).
    const pieces = cutIntoPieces(item.text, pieceSettingsOf(item, context.maxPieceWords));
    pending.push({ hash, start: pieceTexts.length, count: pieces.length });
    for (const piece of pieces) pieceTexts.push(piece.content);
  });

  if (pieceTexts.length > 0) {
    let vectors: Float32Array[];
    try {
      vectors = await encoder.encode(
        pieceTexts,
        context.signal === undefined ? undefined : { signal: context.signal },
      );
    } catch (error) {
      if (EncoderError.isInstance(error) || AbortError.isInstance(error)) throw error;
      throwIfAborted(context.signal, `Embedding ${pieceTexts.length} texts`);
      throw new EncoderError(
        `Encoder "${encoder.id}" failed on ${pieceTexts.length} texts.`,
        { encoderId: encoder.id },
        {
          cause: error,
        },
      );
    }
    checkVectors(encoder, vectors, pieceTexts.length);
    for (const { hash, start, count } of pending) {
      const matrix = new Float32Array(count * encoder.dim);
      for (let piece = 0; piece < count; piece++) {
        matrix.set(normalizeInPlace(vectors[start + piece]!), piece * encoder.dim);
      }
      const embedding = { vectors: matrix, pieceCount: count };
      found.set(hash, embedding);
      cache.set(encoder.id, hash, embedding);
    }
  }

  const stored = items.map((item, index): StoredItem => {
    const hash = textHashes[index]!;
    const embedding = found.get(hash)!;
    return {
      ...item,
      itemHash: itemHashOf(item),
      textHash: hash,
      encoderId: encoder.id,
      vectors: embedding.vectors,
      pieceCount: embedding.pieceCount,
      tokenCount: context.tokenCounter.count(item.text),
    };
  });
  return {
    items: stored,
    statistics: {
      embeddedTexts: pending.length,
      embeddedPieces: pieceTexts.length,
      reusedTexts: new Set(textHashes).size - pending.length,
    },
  };
}
