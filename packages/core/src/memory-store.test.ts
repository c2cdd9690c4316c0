import { describe, expect, it } from 'vitest';
import { contentHash } from './content-hash.js';
import { createMemoryStore } from './memory-store.js';
import type { StoredItem } from './store.js';
import { StoreError } from './userplug-error.js';

// The full store contract (shared with the SQLite and PostgreSQL stores) also runs against this store:
// packages/store-kit/src/memory-store-conformance.test.ts.
function item(id: string, text: string, encoderId = 'test-4', dimension = 4): StoredItem {
  const vectors = new Float32Array(dimension).fill(1 / Math.sqrt(dimension));
  return {
    id,
    text,
    itemHash: contentHash(`${id}\u0000${text}`),
    textHash: contentHash(text),
    encoderId,
    vectors,
    pieceCount: 1,
    tokenCount: 1,
  };
}

describe('createMemoryStore', () => {
  it('refuses items of another encoder or dimension than the user already has', async () => {
    const store = createMemoryStore();
    await store.upsertItems('u1', [item('a', 'alpha')]);
    await expect(store.upsertItems('u1', [item('b', 'beta', 'other-4')])).rejects.toThrow(StoreError);
    await expect(store.upsertItems('u1', [item('b', 'beta', 'test-4', 8)])).rejects.toThrow(/8 dimensions/);
    await expect(store.upsertItems('u2', [item('a', 'alpha'), item('b', 'beta', 'other-4')])).rejects.toThrow(
      /cannot be mixed/,
    );
    expect(await store.countItems('u2')).toBe(0);
    expect(await store.upsertItems('u2', [item('b', 'beta', 'other-4')])).toEqual({
      inserted: 1,
      updated: 0,
    });
  });

  it('caches values per revision, keeps user state across item changes, and forget erases and counts both', async () => {
    const store = createMemoryStore();
    await store.upsertItems('u1', [item('a', 'alpha')]);
    const revision = await store.getRevision('u1');
    expect(await store.setCached!('u1', 'persona', revision, Uint8Array.of(1))).toBe(true);
    expect(await store.setCached!('u1', 'persona', revision + 99, Uint8Array.of(2))).toBe(false);
    await store.setUserState!('u1', 'projector', Uint8Array.of(3));
    expect([...(await store.getCached!('u1', 'persona'))!]).toEqual([1]);
    await store.upsertItems('u1', [item('b', 'beta')]);
    expect(await store.getCached!('u1', 'persona')).toBeUndefined();
    expect([...(await store.getUserState!('u1', 'projector'))!]).toEqual([3]);
    await store.setCached!('u1', 'persona', await store.getRevision('u1'), Uint8Array.of(4));
    const report = await store.forget('u1');
    expect(report).toEqual({
      userId: 'u1',
      itemsDeleted: 2,
      otherDeleted: { cachedValues: 1, userState: 1 },
      verified: true,
    });
    expect(await store.getUserState!('u1', 'projector')).toBeUndefined();
  });
});
