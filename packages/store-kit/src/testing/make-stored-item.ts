import type { StoredItem } from '@userplug/core';
import { contentHash } from '@userplug/core/internal';

/** A deterministic unit vector per text, so a vector read back proves which text (and user) it belongs to. */
export function vectorFor(text: string, dimension = 8, pieces = 1): Float32Array {
  const vectors = new Float32Array(dimension * pieces);
  for (let piece = 0; piece < pieces; piece++) {
    const seed = contentHash(`${piece}\u0000${text}`);
    let norm = 0;
    for (let column = 0; column < dimension; column++) {
      const value =
        (seed.charCodeAt(column % seed.length) % 23) - 11 + (column === piece % dimension ? 30 : 0);
      vectors[piece * dimension + column] = value;
      norm += value * value;
    }
    for (let column = 0; column < dimension; column++) {
      vectors[piece * dimension + column] = vectors[piece * dimension + column]! / Math.sqrt(norm);
    }
  }
  return vectors;
}

/**
 * A storable item, as a personalizer's ingest would make it: hashes of its content, encoder `test-<dimension>`
 * (default 8) and {@link vectorFor} its text, unless `extra` says otherwise.
 */
export function makeStoredItem(
  id: string,
  text: string,
  extra: Partial<StoredItem> & { dimension?: number } = {},
): StoredItem {
  const { dimension = 8, ...rest } = extra;
  const pieceCount = rest.pieceCount ?? 1;
  const base = { id, text, ...rest };
  return {
    ...base,
    itemHash:
      rest.itemHash ??
      contentHash(
        JSON.stringify([
          id,
          text,
          rest.kind,
          rest.timestamp,
          rest.rating,
          rest.label,
          rest.weight,
          rest.meta,
          rest.speaker,
          rest.self,
          rest.conversationId,
          rest.sessionId,
        ]),
      ),
    textHash: rest.textHash ?? contentHash(text),
    encoderId: rest.encoderId ?? `test-${dimension}`,
    vectors: rest.vectors ?? vectorFor(text, dimension, pieceCount),
    pieceCount,
    tokenCount: rest.tokenCount ?? text.split(' ').length,
  };
}
