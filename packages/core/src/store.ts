import type { HistoryItem } from './history-item.js';

/** A history item as a store keeps it: the item, its embedding and what is needed to reuse it. */
export interface StoredItem extends HistoryItem {
  /** Hash of the whole item (text and typed signals): an upsert of an equal item changes nothing. */
  itemHash: string;
  /** Hash of the text alone: the embedding cache key. */
  textHash: string;
  /** Id of the encoder that made `vectors`. */
  encoderId: string;
  /** One unit vector per piece of the text, row-major (`pieceCount × dimension`). */
  vectors: Float32Array;
  /** How many pieces the text was cut into (1 for short items). */
  pieceCount: number;
  /** Tokens of the text, as the ingesting personalizer's token counter counted them. */
  tokenCount: number;
}

/**
 * What an upsert changed, counted as if each item were upserted alone, in order, and atomically with the write:
 * an item equal to the stored one (`itemHash`), even one another process stored a moment before, is neither
 * inserted nor updated, so the counts of concurrent upserts of one user add up.
 */
export interface UpsertCounts {
  /** Items whose id was new for this user. */
  inserted: number;
  /** Items whose id existed and whose content changed. */
  updated: number;
}

/** What `forget(userId)` erased, and whether a check afterwards found anything left. */
export interface ForgetReport {
  /** The user that was forgotten. */
  userId: string;
  /** History items erased. */
  itemsDeleted: number;
  /** Other rows erased (cached personas, per-user trained state, …), by kind. */
  otherDeleted: Record<string, number>;
  /** True when the store was read again after erasing and held nothing of this user. */
  verified: boolean;
}

/**
 * Where a personalizer keeps users' items and vectors. Every operation takes the user id: a store
 * never returns or changes one user's data in a call made for another. All of a user's items come
 * from one encoder: `upsertItems` rejects, with a `StoreError`, items of another encoder id or dimension.
 */
export interface UserplugStore {
  /** Name of the implementation, such as `memory` or `sqlite`. */
  readonly id: string;
  /**
   * Inserts items or replaces them by id, all or nothing; an id repeated in the batch keeps its first place and
   * its last content. Throws a `StoreError` when they mix encoders. `@userplug/store-kit/testing` checks all this.
   */
  upsertItems(userId: string, items: readonly StoredItem[]): Promise<UpsertCounts>;
  /** All items of a user, in the order they were first inserted. */
  listItems(userId: string): Promise<StoredItem[]>;
  /** The stored `itemHash` of each given id that exists, so unchanged items are skipped before embedding. */
  getItemHashes(userId: string, itemIds: readonly string[]): Promise<Map<string, string>>;
  /** Stored vectors of this user's items with these text hashes and this encoder, so equal texts are embedded once. */
  findVectors(
    userId: string,
    encoderId: string,
    textHashes: readonly string[],
  ): Promise<Map<string, { vectors: Float32Array; pieceCount: number }>>;
  /** Deletes items by id; returns how many existed. */
  deleteItems(userId: string, itemIds: readonly string[]): Promise<number>;
  /** Number of items of a user. */
  countItems(userId: string): Promise<number>;
  /** A number that changes whenever a user's items change, for cache invalidation. 0 for an unknown user. */
  getRevision(userId: string): Promise<number>;
  /** Erases everything stored for a user and checks that nothing is left. */
  forget(userId: string): Promise<ForgetReport>;
  /** Ids of users with at least one item. */
  listUserIds(): Promise<string[]>;
  /**
   * Optional. A value cached for the user (such as a persona's query-independent parts), or undefined when
   * none is cached or the user's items changed since it was stored.
   */
  getCached?(userId: string, key: string): Promise<Uint8Array | undefined>;
  /**
   * Optional. Caches a value computed from the user's items at `revision`. Returns false, and stores
   * nothing, when the user's revision is no longer `revision` (the items changed meanwhile).
   */
  setCached?(userId: string, key: string, revision: number, value: Uint8Array): Promise<boolean>;
  /** Optional. Per-user state that outlives item changes (such as trained per-user parameters). */
  getUserState?(userId: string, key: string): Promise<Uint8Array | undefined>;
  /** Optional. Stores per-user state under a key; `undefined` deletes it. Erased by `forget`. */
  setUserState?(userId: string, key: string, value: Uint8Array | undefined): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;
}
