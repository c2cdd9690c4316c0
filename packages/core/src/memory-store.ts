import type { ForgetReport, StoredItem, UpsertCounts, UserplugStore } from './store.js';
import { InvalidArgumentError } from './userplug-error.js';

interface UserRecord {
  items: Map<string, StoredItem>;
  revision: number;
}

function requireUserId(userId: string): void {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
  }
}

/**
 * A store that keeps everything in this process's memory: the default, and right for tests,
 * scripts and single-process apps that rebuild histories at start. Lost when the process exits.
 */
export function createMemoryStore(): UserplugStore {
  const users = new Map<string, UserRecord>();
  // Revisions keep increasing across forget() so a cached persona can never match a new history.
  let revisionCounter = 0;

  const record = (userId: string): UserRecord => {
    let found = users.get(userId);
    if (!found) {
      found = { items: new Map(), revision: 0 };
      users.set(userId, found);
    }
    return found;
  };

  return {
    id: 'memory',
    async upsertItems(userId, items): Promise<UpsertCounts> {
      requireUserId(userId);
      const user = record(userId);
      let inserted = 0;
      let updated = 0;
      for (const item of items) {
        const existing = user.items.get(item.id);
        if (existing?.itemHash === item.itemHash) continue;
        if (existing) updated++;
        else inserted++;
        user.items.set(item.id, item);
      }
      if (inserted + updated > 0) user.revision = ++revisionCounter;
      return { inserted, updated };
    },
    async listItems(userId) {
      requireUserId(userId);
      return [...(users.get(userId)?.items.values() ?? [])];
    },
    async getItemHashes(userId, itemIds) {
      requireUserId(userId);
      const hashes = new Map<string, string>();
      const items = users.get(userId)?.items;
      if (!items) return hashes;
      for (const id of itemIds) {
        const item = items.get(id);
        if (item) hashes.set(id, item.itemHash);
      }
      return hashes;
    },
    async findVectors(userId, encoderId, textHashes) {
      requireUserId(userId);
      const wanted = new Set(textHashes);
      const found = new Map<string, { vectors: Float32Array; pieceCount: number }>();
      for (const item of users.get(userId)?.items.values() ?? []) {
        if (item.encoderId === encoderId && wanted.has(item.textHash)) {
          found.set(item.textHash, { vectors: item.vectors, pieceCount: item.pieceCount });
        }
      }
      return found;
    },
    async deleteItems(userId, itemIds) {
      requireUserId(userId);
      const user = users.get(userId);
      if (!user) return 0;
      let deleted = 0;
      for (const id of itemIds) if (user.items.delete(id)) deleted++;
      if (deleted > 0) user.revision = ++revisionCounter;
      return deleted;
    },
    async countItems(userId) {
      requireUserId(userId);
      return users.get(userId)?.items.size ?? 0;
    },
    async getRevision(userId) {
      requireUserId(userId);
      return users.get(userId)?.revision ?? 0;
    },
    async forget(userId): Promise<ForgetReport> {
      requireUserId(userId);
      const itemsDeleted = users.get(userId)?.items.size ?? 0;
      users.delete(userId);
      revisionCounter++;
      return { userId, itemsDeleted, otherDeleted: {}, verified: !users.has(userId) };
    },
    async listUserIds() {
      return [...users].filter(([, user]) => user.items.size > 0).map(([userId]) => userId);
    },
    async close() {
      users.clear();
    },
  };
}
