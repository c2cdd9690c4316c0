import type { ForgetReport, StoredItem, UpsertCounts, UserplugStore } from './store.js';
import { InvalidArgumentError, StoreError } from './userplug-error.js';

interface UserRecord {
  items: Map<string, StoredItem>;
  revision: number;
  cached: Map<string, { revision: number; value: Uint8Array }>;
  state: Map<string, Uint8Array>;
}

function dimensionOf(item: StoredItem): number {
  return item.pieceCount > 0 ? item.vectors.length / item.pieceCount : Number.NaN;
}

// One encoder per user: vectors of different encoders are not comparable, so mixing them is refused.
function checkEncoders(userId: string, items: readonly StoredItem[], stored: StoredItem | undefined): void {
  const first = stored ?? items[0];
  if (!first) return;
  const dimension = dimensionOf(first);
  for (const item of items) {
    if (!Number.isInteger(dimensionOf(item)) || dimensionOf(item) < 1) {
      throw new StoreError(
        `Item "${item.id}" of user "${userId}" holds ${item.vectors.length} numbers for ${item.pieceCount} pieces. ` +
          "Each piece needs one vector of the encoder's dimension: embed the item again.",
        { userId },
      );
    }
    if (item.encoderId !== first.encoderId || dimensionOf(item) !== dimension) {
      throw new StoreError(
        `Item "${item.id}" was embedded by encoder "${item.encoderId}" (${dimensionOf(item)} dimensions), but user "${userId}" ` +
          `${stored ? 'has items' : 'is being stored with items'} of encoder "${first.encoderId}" (${dimension} dimensions). ` +
          `Vectors of different encoders cannot be mixed: use encoder "${first.encoderId}", or forget the user and ingest again.`,
        { userId },
      );
    }
  }
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
      found = { items: new Map(), revision: 0, cached: new Map(), state: new Map() };
      users.set(userId, found);
    }
    return found;
  };

  return {
    id: 'memory',
    async upsertItems(userId, items): Promise<UpsertCounts> {
      requireUserId(userId);
      checkEncoders(userId, items, users.get(userId)?.items.values().next().value);
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
      if (inserted + updated > 0) {
        user.revision = ++revisionCounter;
        user.cached.clear();
      }
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
      if (deleted > 0) {
        user.revision = ++revisionCounter;
        user.cached.clear();
      }
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
      const user = users.get(userId);
      const otherDeleted = { cachedValues: user?.cached.size ?? 0, userState: user?.state.size ?? 0 };
      users.delete(userId);
      revisionCounter++;
      return { userId, itemsDeleted: user?.items.size ?? 0, otherDeleted, verified: !users.has(userId) };
    },
    async listUserIds() {
      return [...users].filter(([, user]) => user.items.size > 0).map(([userId]) => userId);
    },
    async getCached(userId, key) {
      requireUserId(userId);
      const user = users.get(userId);
      const entry = user?.cached.get(key);
      return entry && entry.revision === user?.revision ? entry.value : undefined;
    },
    async setCached(userId, key, revision, value) {
      requireUserId(userId);
      const user = users.get(userId);
      if (!user || user.items.size === 0 || user.revision !== revision) return false;
      user.cached.set(key, { revision, value: Uint8Array.from(value) });
      return true;
    },
    async getUserState(userId, key) {
      requireUserId(userId);
      return users.get(userId)?.state.get(key);
    },
    async setUserState(userId, key, value) {
      requireUserId(userId);
      if (value === undefined) users.get(userId)?.state.delete(key);
      else record(userId).state.set(key, Uint8Array.from(value));
    },
    async close() {
      users.clear();
    },
  };
}
