import type { StoredItem, UserplugStore } from '@userplug/core';
import { expect } from 'vitest';
import { encodeVectors } from '../vector-codec.js';
import { makeStoredItem } from './make-stored-item.js';

const conversationFields = ['speaker', 'self', 'conversationId', 'sessionId'] as const;

/**
 * Items as a store of schema version 1 held them, to write into its tables before opening it with the current
 * code: a note with every signal, and chat lines from before history items had conversation fields.
 * Write them with {@link schemaOneRow}.
 */
export function schemaOneItems(): StoredItem[] {
  return [
    makeStoredItem('note', 'Repotted the fig tree on the balcony', {
      kind: 'note',
      timestamp: 1_700_000_000_000,
      rating: 4,
      label: 'garden',
      weight: 0.5,
      meta: { source: 'journal', tags: ['plants'] },
    }),
    makeStoredItem('turn-1', 'Are you coming to the market on Sunday?', { kind: 'message' }),
    makeStoredItem('turn-2', 'Yes, I need fresh basil for the pesto.', { kind: 'message', pieceCount: 2 }),
  ];
}

/** The rows schema version 1 held for an item, to insert as they are. */
export interface SchemaOneRow {
  /**
   * The item's columns, in the order item_id, item_hash, text_hash, encoder_id, text, kind, timestamp, rating,
   * label, weight, meta (JSON text), token_count; absent fields are null.
   */
  itemColumns: (string | number | null)[];
  /** The piece count of its text's vectors. */
  pieceCount: number;
  /** Its text's vectors in the float32 format (format code 0). */
  vectorData: Uint8Array;
}

/** The row of `item` (from {@link schemaOneItems}) as schema version 1 wrote it: no conversation fields. */
export function schemaOneRow(item: StoredItem): SchemaOneRow {
  return {
    itemColumns: [
      item.id,
      item.itemHash,
      item.textHash,
      item.encoderId,
      item.text,
      item.kind ?? null,
      item.timestamp ?? null,
      item.rating ?? null,
      item.label ?? null,
      item.weight ?? null,
      item.meta === undefined ? null : JSON.stringify(item.meta),
      item.tokenCount,
    ],
    pieceCount: item.pieceCount,
    vectorData: encodeVectors(item.vectors, item.pieceCount, 'float32'),
  };
}

/**
 * Checks a store just opened by the current code over `written` (from {@link schemaOneItems}), stored for
 * `userId` at schema version 1: every row is kept as it was (re-ingesting the same items changes nothing), and
 * new chat turns keep their conversation fields.
 */
export async function checkSchemaOneUpgrade(
  store: UserplugStore,
  userId: string,
  written: readonly StoredItem[],
): Promise<void> {
  const withoutVectors = (items: readonly StoredItem[]) =>
    items.map(({ vectors: _vectors, ...rest }) => rest);
  const kept = await store.listItems(userId);
  expect(withoutVectors(kept)).toEqual(withoutVectors(written));
  kept.forEach((item, index) => {
    expect([...item.vectors]).toEqual([...written[index]!.vectors]);
    for (const field of conversationFields) expect(item[field]).toBeUndefined();
  });
  expect(await store.upsertItems(userId, written)).toEqual({ inserted: 0, updated: 0 });
  const later = makeStoredItem('turn-3', 'Bring the big basket.', {
    speaker: 'Lena',
    self: false,
    conversationId: 'weekend',
    sessionId: 'weekend-2',
  });
  expect(await store.upsertItems(userId, [later])).toEqual({ inserted: 1, updated: 0 });
  expect(withoutVectors(await store.listItems(userId))).toEqual(withoutVectors([...written, later]));
}
