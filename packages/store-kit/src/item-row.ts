import { type StoredItem, StoreError } from '@userplug/core';
import { decodeVectors } from './vector-codec.js';

/**
 * An item's columns as a store writes and reads them: absent fields are null, `meta` is JSON text and `self`
 * is 1 or 0 (SQLite has no booleans).
 */
export interface ItemRow {
  itemId: string;
  itemHash: string;
  textHash: string;
  encoderId: string;
  text: string;
  kind: string | null;
  timestamp: number | null;
  rating: number | null;
  label: string | null;
  weight: number | null;
  speaker: string | null;
  self: 0 | 1 | null;
  conversationId: string | null;
  sessionId: string | null;
  meta: string | null;
  tokenCount: number;
}

/** The vectors of one distinct text of a user, as {@link encodeVectors} wrote them. */
export interface VectorRow {
  pieceCount: number;
  /** The `vectorFormatCode` of `data`. */
  format: number;
  data: Uint8Array;
}

/** An item read back with its text's vectors and the user's vector length; null vector columns mean damage. */
export interface ListedItemRow extends ItemRow {
  dimension: number;
  pieceCount: number | null;
  format: number | null;
  data: Uint8Array | null;
}

// Storage that cannot hold U+0000 gets U+FFFD; the item's hashes keep the original, so re-ingesting is still a no-op.
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** The row of an item; `textHoldsNul: false` replaces U+0000 in its texts by U+FFFD. */
export function toItemRow(item: StoredItem, textHoldsNul: boolean): ItemRow {
  const clean = textHoldsNul ? (text: string) => text : withoutNul;
  const meta = item.meta === undefined ? null : JSON.stringify(item.meta);
  return {
    itemId: item.id,
    itemHash: item.itemHash,
    textHash: item.textHash,
    encoderId: item.encoderId,
    text: clean(item.text),
    kind: item.kind === undefined ? null : clean(item.kind),
    timestamp: item.timestamp ?? null,
    rating: item.rating ?? null,
    label: item.label === undefined ? null : clean(item.label),
    weight: item.weight ?? null,
    speaker: item.speaker === undefined ? null : clean(item.speaker),
    self: item.self === undefined ? null : item.self ? 1 : 0,
    conversationId: item.conversationId === undefined ? null : clean(item.conversationId),
    sessionId: item.sessionId === undefined ? null : clean(item.sessionId),
    // JSON writes U+0000 as the escape \u0000, which JSON-typed columns cannot hold either.
    meta: meta === null || textHoldsNul ? meta : meta.replaceAll('\\u0000', '\\ufffd'),
    tokenCount: item.tokenCount,
  };
}

/**
 * The item of a row read back. Throws a `StoreError` naming the item, the user and `location` when its vectors
 * are missing or do not fit the user's vector length.
 */
export function toStoredItem(row: ListedItemRow, userId: string, location: string): StoredItem {
  const vectors =
    row.data === null || row.pieceCount === null || row.format === null
      ? undefined
      : decodeVectors(row.data, row.pieceCount, row.dimension, row.format);
  if (!vectors) {
    throw new StoreError(
      `The vectors of item "${row.itemId}" of user "${userId}" in ${location} are missing or have the wrong length for dimension ${row.dimension}. ` +
        'The store is damaged: ingest that item again, or forget the user and ingest the history again.',
      { userId },
    );
  }
  // Plain assignments: conditional spreads cost a temporary object per field, 10k items per cold read.
  const item: StoredItem = {
    id: row.itemId,
    text: row.text,
    itemHash: row.itemHash,
    textHash: row.textHash,
    encoderId: row.encoderId,
    vectors,
    pieceCount: row.pieceCount!,
    tokenCount: row.tokenCount,
  };
  if (row.kind !== null) item.kind = row.kind;
  if (row.timestamp !== null) item.timestamp = row.timestamp;
  if (row.rating !== null) item.rating = row.rating;
  if (row.label !== null) item.label = row.label;
  if (row.weight !== null) item.weight = row.weight;
  if (row.speaker !== null) item.speaker = row.speaker;
  if (row.self !== null) item.self = row.self === 1;
  if (row.conversationId !== null) item.conversationId = row.conversationId;
  if (row.sessionId !== null) item.sessionId = row.sessionId;
  if (row.meta !== null) item.meta = JSON.parse(row.meta) as Record<string, unknown>;
  return item;
}
