// A third-party store proves itself with one import. Run: npx vitest run examples/custom-store.test.ts
import {
  type ForgetReport,
  InvalidArgumentError,
  type StoredItem,
  StoreError,
  type UserplugStore,
} from '@userplug/core';
import { describeStoreConformance } from '@userplug/store-kit/testing';
import { describe } from 'vitest';

type ItemJson = Omit<StoredItem, 'vectors'> & { vectors: number[] };
interface UserDocument {
  revision: number;
  items: ItemJson[];
}

/**
 * A store on a key-value database, one JSON document per user (a Map stands in for Redis or DynamoDB here).
 * Each call reads and writes whole documents, so every upsert is atomic; it skips the optional cache and state.
 */
function createKeyValueStore(database = new Map<string, string>()): UserplugStore {
  let lastRevision = 0;
  const key = (userId: string) => {
    if (typeof userId !== 'string' || userId.length === 0) {
      throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
    }
    return `user:${userId}`;
  };
  const read = (userId: string): UserDocument =>
    JSON.parse(database.get(key(userId)) ?? '{"revision":0,"items":[]}') as UserDocument;
  const write = (userId: string, document: UserDocument) => {
    if (document.items.length === 0) database.delete(key(userId));
    else database.set(key(userId), JSON.stringify({ ...document, revision: ++lastRevision }));
  };
  const toItem = (item: ItemJson): StoredItem => ({ ...item, vectors: Float32Array.from(item.vectors) });
  const dimensionOf = (item: { vectors: ArrayLike<number>; pieceCount: number }) =>
    item.vectors.length / item.pieceCount;

  return {
    id: 'key-value',
    async upsertItems(userId, items) {
      const document = read(userId);
      const expected = document.items[0] ?? items[0];
      for (const item of items) {
        if (!Number.isInteger(dimensionOf(item)) || dimensionOf(item) < 1) {
          throw new StoreError(
            `Item "${item.id}" has ${item.vectors.length} numbers for ${item.pieceCount} pieces.`,
            {
              userId,
            },
          );
        }
        if (
          expected &&
          (item.encoderId !== expected.encoderId || dimensionOf(item) !== dimensionOf(expected))
        ) {
          throw new StoreError(
            `Item "${item.id}" was embedded by encoder "${item.encoderId}" (${dimensionOf(item)} dimensions), but user ` +
              `"${userId}" has encoder "${expected.encoderId}" (${dimensionOf(expected)} dimensions): forget the user first.`,
            { userId },
          );
        }
      }
      let inserted = 0;
      let updated = 0;
      for (const item of items) {
        const index = document.items.findIndex((stored) => stored.id === item.id);
        if (document.items[index]?.itemHash === item.itemHash) continue;
        const json = { ...item, vectors: Array.from(item.vectors) };
        if (index < 0) {
          document.items.push(json);
          inserted++;
        } else {
          document.items[index] = json;
          updated++;
        }
      }
      if (inserted + updated > 0) write(userId, document);
      return { inserted, updated };
    },
    async listItems(userId) {
      return read(userId).items.map(toItem);
    },
    async getItemHashes(userId, itemIds) {
      const wanted = new Set(itemIds);
      return new Map(
        read(userId).items.flatMap((item) => (wanted.has(item.id) ? [[item.id, item.itemHash]] : [])),
      );
    },
    async findVectors(userId, encoderId, textHashes) {
      const wanted = new Set(textHashes);
      const found = read(userId).items.filter(
        (item) => item.encoderId === encoderId && wanted.has(item.textHash),
      );
      return new Map(
        found.map((item) => [item.textHash, { vectors: toItem(item).vectors, pieceCount: item.pieceCount }]),
      );
    },
    async deleteItems(userId, itemIds) {
      const document = read(userId);
      const kept = document.items.filter((item) => !itemIds.includes(item.id));
      const deleted = document.items.length - kept.length;
      if (deleted > 0) write(userId, { ...document, items: kept });
      return deleted;
    },
    async countItems(userId) {
      return read(userId).items.length;
    },
    async getRevision(userId) {
      return read(userId).revision;
    },
    async forget(userId): Promise<ForgetReport> {
      const itemsDeleted = read(userId).items.length;
      database.delete(key(userId));
      return { userId, itemsDeleted, otherDeleted: {}, verified: !database.has(key(userId)) };
    },
    async listUserIds() {
      return [...database.keys()].map((name) => name.slice('user:'.length)).sort();
    },
    async close() {},
  };
}

describe('a key-value store', () => {
  describeStoreConformance({ open: async () => createKeyValueStore(), cache: false, userState: false });
});
