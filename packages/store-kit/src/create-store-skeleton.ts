import {
  type ForgetReport,
  InvalidArgumentError,
  type StoredItem,
  StoreError,
  type UpsertCounts,
  type UserplugStore,
} from '@userplug/core';
import {
  checkItemBatch,
  mixedEncoderError,
  requireWellFormed,
  type UserEncoder,
} from './check-item-batch.js';
import { type ItemRow, type ListedItemRow, toItemRow, toStoredItem, type VectorRow } from './item-row.js';
import { decodeVectors, encodeVectors, type VectorQuantization, vectorFormatCode } from './vector-codec.js';

type MaybePromise<T> = T | Promise<T>;

/** What a store holds of an item id before an upsert. */
export interface StoredVersion {
  itemHash: string;
  textHash: string;
  encoderId: string;
}

/** One distinct text of a user, the key of its vectors. */
export interface TextKey {
  encoderId: string;
  textHash: string;
}

/** What an upsert writes, decided inside the driver's transaction from what the store holds. */
export interface UpsertPlan {
  /** What the upsert changes, counted as if each item were upserted alone, in order. */
  counts: UpsertCounts;
  /** The encoder of the batch, the user's encoder from now on. */
  encoder: UserEncoder;
  /** The last version of each new or changed id, in the order the ids first appear (an update keeps its place). */
  rows: ItemRow[];
  /** The vectors of a text of `rows`, encoded on demand: write them where the store has none for the text. */
  vectorRow(textHash: string): VectorRow;
  /** Texts the written items had before: delete their vectors when no item of the user uses them any more. */
  replacedTexts: TextKey[];
}

/** The user's encoder and the stored versions of the ids of a batch, read inside the upsert's transaction. */
export type UpsertDecision = (
  user: UserEncoder | undefined,
  stored: ReadonlyMap<string, StoredVersion>,
) => UpsertPlan;

/**
 * The storage-specific half of a store: SQL and driver calls. Every method is scoped to one user and gets
 * arguments the skeleton has checked (non-empty, distinct where it says so); it may return a value or a promise
 * and throw the driver's own errors, which {@link StoreDriver.toStoreError} turns into `StoreError`s.
 */
export interface StoreDriver<Id extends string = string> {
  /** Name of the implementation, such as `sqlite`. */
  readonly id: Id;
  /** The store in messages, such as `SQLite store /data/userplug.db`. */
  readonly name: string;
  /** Where a user's items are, in messages, such as `/data/userplug.db` or `schema "userplug"`. */
  readonly location: string;
  /** The factory that opens a new one, for the message of a closed store, such as `createSqliteStore`. */
  readonly factory: string;
  /** Whether ids and texts may hold U+0000. When false ids with it are refused and texts store U+FFFD. */
  readonly textHoldsNul: boolean;
  /** Format of newly written vectors. */
  readonly quantization: VectorQuantization;
  /**
   * In one transaction holding the user's write lock: reads the user's encoder and the stored versions of
   * `itemIds` (distinct), calls `decide` with them, writes `plan.rows` (inserted or replacing by id), the missing
   * vectors of their texts, deletes vectors of `plan.replacedTexts` no item uses any more, and, when a count is
   * not 0, records the plan's encoder, a new revision (never used before, not even for another user) and drops
   * the user's cached values. Returns the plan's counts.
   */
  upsertItems(userId: string, itemIds: readonly string[], decide: UpsertDecision): MaybePromise<UpsertCounts>;
  /** The user's items with their vectors, in first-insertion order, in one consistent read. */
  listItems(userId: string): MaybePromise<ListedItemRow[]>;
  /** `[itemId, itemHash]` of the given ids (distinct) that exist. */
  getItemHashes(userId: string, itemIds: readonly string[]): MaybePromise<Iterable<[string, string]>>;
  /** Vectors of the given texts (distinct) of this encoder, when it is the user's; with the user's vector length. */
  findVectors(
    userId: string,
    encoderId: string,
    textHashes: readonly string[],
  ): MaybePromise<Iterable<VectorRow & { textHash: string; dimension: number }>>;
  /**
   * In one transaction: deletes the given items (distinct ids), the vectors no item uses any more, and, when
   * something was deleted, drops the user's cached values and gives a new revision (or removes the user when no
   * item is left). Returns how many items existed.
   */
  deleteItems(userId: string, itemIds: readonly string[]): MaybePromise<number>;
  countItems(userId: string): MaybePromise<number>;
  /** The user's revision, 0 when the user has no items. */
  getRevision(userId: string): MaybePromise<number>;
  /** In one transaction: deletes the user's rows from every table that has them; returns the rows deleted by table. */
  eraseUser(userId: string): MaybePromise<Record<string, number>>;
  /** Rows of the user left in every table, read after `eraseUser` committed. */
  countUserRows(userId: string): MaybePromise<number>;
  /** Ids of users with at least one item, sorted by code unit. */
  listUserIds(): MaybePromise<string[]>;
  /** A value cached for the user, only when it was stored at the user's current revision. */
  getCached(userId: string, key: string): MaybePromise<Uint8Array | undefined>;
  /** Stores a value only while the user has items and is at `revision`, atomically; returns whether it did. */
  setCached(userId: string, key: string, revision: number, value: Uint8Array): MaybePromise<boolean>;
  getUserState(userId: string, key: string): MaybePromise<Uint8Array | undefined>;
  /** Stores per-user state; `undefined` deletes it. */
  setUserState(userId: string, key: string, value: Uint8Array | undefined): MaybePromise<void>;
  /** Releases connections and files; called once. */
  close(): MaybePromise<void>;
  /** The driver's error as a `StoreError` saying what failed and what to do (a `StoreError` passes through). */
  toStoreError(error: unknown, action: string, userId: string | undefined): StoreError;
}

/** A store with every optional method of `UserplugStore`. */
export interface SkeletonStore<Id extends string = string> extends UserplugStore {
  readonly id: Id;
  getCached(userId: string, key: string): Promise<Uint8Array | undefined>;
  setCached(userId: string, key: string, revision: number, value: Uint8Array): Promise<boolean>;
  getUserState(userId: string, key: string): Promise<Uint8Array | undefined>;
  setUserState(userId: string, key: string, value: Uint8Array | undefined): Promise<void>;
}

/** What {@link createStoreSkeleton} returns: the store, and the checks a store's own extra methods use. */
export interface StoreSkeleton<Id extends string = string> {
  store: SkeletonStore<Id>;
  /** Runs `body` as the store's methods run: refused once closed, its errors turned into `StoreError`s. */
  call<T>(action: string, userId: string | undefined, body: () => MaybePromise<T>): Promise<T>;
  /** Refuses a user id the store cannot hold, with an `InvalidArgumentError`. */
  requireUserId(userId: string): void;
}

// Names of ForgetReport.otherDeleted, by table; the memory store uses the same names.
const forgetReportNames: Record<string, string> = { user_cache: 'cachedValues', user_state: 'userState' };

/**
 * The half of a store that does not depend on where data lives: argument and id checks, one encoder per user,
 * upsert counting, item rows, `forget` with its verification read, closing, and error wording. A store gives
 * its storage-specific half as a {@link StoreDriver}.
 */
export function createStoreSkeleton<Id extends string>(driver: StoreDriver<Id>): StoreSkeleton<Id> {
  const formatCode = vectorFormatCode[driver.quantization];
  let closed = false;

  function requireText(name: string, value: unknown, fix: string): asserts value is string {
    if (typeof value !== 'string' || value.length === 0) {
      throw new InvalidArgumentError(name, `${name} must be a non-empty string. ${fix}`);
    }
    requireWellFormed(name, value);
    if (!driver.textHoldsNul && value.includes('\u0000')) {
      throw new InvalidArgumentError(
        name,
        `${name} "${value.replaceAll('\u0000', '\\0')}" holds a NUL (U+0000) character, which the ${driver.name} cannot hold. Remove it.`,
      );
    }
  }
  function requireUserId(userId: unknown): asserts userId is string {
    requireText('userId', userId, 'Pass the id of the user.');
  }
  function requireKey(key: unknown): asserts key is string {
    requireText('key', key, 'Pass a name such as "persona" or "projector".');
  }
  // Ids the store cannot hold cannot be stored either: they are left out of lookups.
  const storable = (ids: readonly string[]) =>
    [...new Set(ids)].filter((id) => driver.textHoldsNul || !id.includes('\u0000'));

  async function call<T>(
    action: string,
    userId: string | undefined,
    body: () => MaybePromise<T>,
  ): Promise<T> {
    if (closed) {
      throw new StoreError(
        `The ${driver.name} is closed; cannot ${action}. Create a new store with ${driver.factory}().`,
      );
    }
    try {
      return await body();
    } catch (error) {
      throw driver.toStoreError(error, action, userId);
    }
  }

  function planUpsert(
    userId: string,
    items: readonly StoredItem[],
    encoder: UserEncoder,
    user: UserEncoder | undefined,
    stored: ReadonlyMap<string, StoredVersion>,
  ): UpsertPlan {
    if (user && (user.encoderId !== encoder.encoderId || user.dimension !== encoder.dimension)) {
      throw mixedEncoderError(userId, { id: items[0]!.id, ...encoder }, user, driver.location);
    }
    const current = new Map<string, string>();
    for (const [itemId, version] of stored) current.set(itemId, version.itemHash);
    // A Map keeps the position of a key's first set: the last version of an id lands where the id first appeared.
    const latest = new Map<string, StoredItem>();
    let inserted = 0;
    let updated = 0;
    for (const item of items) {
      const hash = current.get(item.id);
      if (hash === item.itemHash) continue;
      if (hash === undefined) inserted++;
      else updated++;
      current.set(item.id, item.itemHash);
      latest.set(item.id, item);
    }
    const replaced = new Map<string, TextKey>();
    const texts = new Map<string, StoredItem>();
    for (const item of latest.values()) {
      const old = stored.get(item.id);
      if (old) replaced.set(`${old.encoderId}\u0000${old.textHash}`, old);
      texts.set(item.textHash, item);
    }
    return {
      counts: { inserted, updated },
      encoder,
      rows: [...latest.values()].map((item) => toItemRow(item, driver.textHoldsNul)),
      vectorRow(textHash) {
        const item = texts.get(textHash)!;
        const data = encodeVectors(item.vectors, item.pieceCount, driver.quantization);
        return { pieceCount: item.pieceCount, format: formatCode, data };
      },
      replacedTexts: [...replaced.values()].map(({ encoderId, textHash }) => ({ encoderId, textHash })),
    };
  }

  const copy = (value: Uint8Array | undefined) => (value === undefined ? undefined : new Uint8Array(value));

  const store: SkeletonStore<Id> = {
    id: driver.id,
    async upsertItems(userId, items) {
      requireUserId(userId);
      if (items.length === 0) return { inserted: 0, updated: 0 };
      const encoder = checkItemBatch(userId, items);
      for (const item of items) requireText('item id', item.id, 'Pass the id of the item.');
      const ids = [...new Set(items.map((item) => item.id))];
      return call('store items', userId, () =>
        driver.upsertItems(userId, ids, (user, stored) => planUpsert(userId, items, encoder, user, stored)),
      );
    },
    async listItems(userId) {
      requireUserId(userId);
      const rows = await call('list items', userId, () => driver.listItems(userId));
      return rows.map((row) => toStoredItem(row, userId, driver.location));
    },
    async getItemHashes(userId, itemIds) {
      requireUserId(userId);
      const ids = storable(itemIds);
      if (ids.length === 0) return new Map();
      return new Map(await call('read item hashes', userId, () => driver.getItemHashes(userId, ids)));
    },
    async findVectors(userId, encoderId, textHashes) {
      requireUserId(userId);
      const found = new Map<string, { vectors: Float32Array; pieceCount: number }>();
      const hashes = storable(textHashes);
      if (hashes.length === 0) return found;
      const rows = await call('read vectors', userId, () => driver.findVectors(userId, encoderId, hashes));
      for (const row of rows) {
        const vectors = decodeVectors(row.data, row.pieceCount, row.dimension, row.format);
        if (vectors) found.set(row.textHash, { vectors, pieceCount: row.pieceCount });
      }
      return found;
    },
    async deleteItems(userId, itemIds) {
      requireUserId(userId);
      const ids = storable(itemIds);
      if (ids.length === 0) return 0;
      return call('delete items', userId, () => driver.deleteItems(userId, ids));
    },
    async countItems(userId) {
      requireUserId(userId);
      return call('count items', userId, () => driver.countItems(userId));
    },
    async getRevision(userId) {
      requireUserId(userId);
      return call('read the revision', userId, () => driver.getRevision(userId));
    },
    async forget(userId): Promise<ForgetReport> {
      requireUserId(userId);
      const counts = await call('forget the user', userId, () => driver.eraseUser(userId));
      // Read again after the commit: `verified` is a fact about the storage, not about our counts.
      const left = await call('verify the erasure', userId, () => driver.countUserRows(userId));
      const otherDeleted: Record<string, number> = {};
      for (const [table, count] of Object.entries(counts)) {
        if (table === 'items' || table === 'users') continue;
        otherDeleted[forgetReportNames[table] ?? table] = count;
      }
      return { userId, itemsDeleted: counts.items ?? 0, otherDeleted, verified: left === 0 };
    },
    async listUserIds() {
      return call('list users', undefined, () => driver.listUserIds());
    },
    async getCached(userId, key) {
      requireUserId(userId);
      requireKey(key);
      return copy(await call('read a cached value', userId, () => driver.getCached(userId, key)));
    },
    async setCached(userId, key, revision, value) {
      requireUserId(userId);
      requireKey(key);
      return call('cache a value', userId, () => driver.setCached(userId, key, revision, value));
    },
    async getUserState(userId, key) {
      requireUserId(userId);
      requireKey(key);
      return copy(await call('read user state', userId, () => driver.getUserState(userId, key)));
    },
    async setUserState(userId, key, value) {
      requireUserId(userId);
      requireKey(key);
      const action = value === undefined ? 'delete user state' : 'write user state';
      await call(action, userId, () => driver.setUserState(userId, key, value));
    },
    async close() {
      if (closed) return;
      closed = true;
      await driver.close();
    },
  };
  return { store, call, requireUserId };
}
