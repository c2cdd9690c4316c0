// Behaviour every UserplugStore must share; run against the memory, SQLite and PostgreSQL stores.
import {
  createHashingEncoder,
  createPersonalizer,
  type HistoryItem,
  type HistoryItemInput,
  type StoredItem,
  StoreError,
  type UpsertCounts,
  type UserplugStore,
} from '@userplug/core';
import { contentHash } from '@userplug/core/internal';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStoredItem, vectorFor } from './make-stored-item.js';

/** How the suite gets stores, and what the store under test supports. */
export interface StoreConformanceSettings<Store extends UserplugStore = UserplugStore> {
  /** Opens a new, empty store; the suite closes it. */
  open(): Promise<Store>;
  /**
   * Opens a second handle on the data of `store` (another connection or client), closed by the suite, so that
   * concurrent upserts really run side by side. Default: `store` itself.
   */
  openAnother?(store: Store): Promise<UserplugStore>;
  /** Largest allowed difference between a stored and a read vector number (int8 quantisation). Default 1e-7. */
  vectorTolerance?: number;
  /** Property-test runs. Default 25. */
  propertyRuns?: number;
  /** Whether user ids may hold U+0000 (PostgreSQL text cannot). Default true. */
  nulInIds?: boolean;
  /** Whether the store implements the optional `getCached` / `setCached`. Default true. */
  cache?: boolean;
  /** Whether the store implements the optional `getUserState` / `setUserState`. Default true. */
  userState?: boolean;
}

function expectVectorsClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let index = 0; index < expected.length; index++)
    worst = Math.max(worst, Math.abs(actual[index]! - expected[index]!));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

const trickyUserIds = [
  'alice',
  'Alice',
  'alice ',
  "o'brien",
  'a%',
  'a_',
  '_',
  '%',
  'ünï©ødé',
  'x\u0000y',
  '1',
  'bob; DROP TABLE items',
];

/** Registers the shared store tests in the current `describe`. */
export function describeStoreConformance<Store extends UserplugStore>(
  settings: StoreConformanceSettings<Store>,
): void {
  const tolerance = settings.vectorTolerance ?? 1e-7;
  const cache = settings.cache !== false;
  const userState = settings.userState !== false;
  const opened: UserplugStore[] = [];
  const open = async (): Promise<Store> => {
    const store = await settings.open();
    opened.push(store);
    return store;
  };
  const openAnother = async (store: Store) => {
    if (!settings.openAnother) return store;
    const another = await settings.openAnother(store);
    opened.push(another);
    return another;
  };
  afterEach(async () => {
    while (opened.length > 0) await opened.pop()!.close();
  });

  describe('store contract', () => {
    it('round-trips items with typed signals, meta and several pieces, in first-insertion order', async () => {
      const store = await open();
      const items = [
        makeStoredItem('b', 'second text', {
          kind: 'review',
          rating: 4.5,
          timestamp: 1_714_000_000_123,
          label: 'gear',
          weight: 0.25,
          meta: { tags: ['x', 1], nested: { ok: true } },
        }),
        makeStoredItem('a', 'first text with two pieces', { pieceCount: 2, tokenCount: 7 }),
        makeStoredItem('c', 'third', { kind: 'post' }),
      ];
      expect(await store.upsertItems('u1', items)).toEqual({ inserted: 3, updated: 0 });
      const listed = await store.listItems('u1');
      expect(listed.map((item) => item.id)).toEqual(['b', 'a', 'c']);
      listed.forEach((item, index) => {
        const { vectors, ...rest } = item;
        const { vectors: expectedVectors, ...expected } = items[index]!;
        expect(rest).toEqual(expected);
        expectVectorsClose(vectors, expectedVectors, tolerance);
      });
      expect(await store.countItems('u1')).toBe(3);
      expect(await store.countItems('nobody')).toBe(0);
      expect(await store.listItems('nobody')).toEqual([]);
      expect(await store.listUserIds()).toEqual(['u1']);
    });

    it('round-trips every field of an item, present, falsy or absent, and clears fields an update leaves out', async () => {
      const store = await open();
      // Every optional field of a history item: a field core adds fails to compile here until this test covers it.
      const everyField: Required<Omit<HistoryItem, 'id' | 'text'>> = {
        kind: 'chat',
        timestamp: 1_714_000_000_123.5,
        rating: -2.5,
        label: 'gear & "quotes"',
        weight: 0.25,
        speaker: 'Ana María',
        self: true,
        conversationId: 'conversation 7',
        sessionId: 'session-2024-03-10',
        meta: { tags: ['x', 1, null], nested: { ok: true, ünï: 'ß' }, empty: {} },
      };
      const falsyFields: Required<Omit<HistoryItem, 'id' | 'text'>> = {
        kind: '0',
        timestamp: 0,
        rating: 0,
        label: '',
        weight: 0,
        speaker: '0',
        self: false,
        conversationId: '0',
        sessionId: '0',
        meta: {},
      };
      const items = [
        makeStoredItem('every', 'every field set', everyField),
        makeStoredItem('falsy', 'every field set to a falsy value', falsyFields),
        makeStoredItem('none', 'no optional field'),
        makeStoredItem('turn', 'a turn without a conversation id', {
          speaker: 'Sam',
          sessionId: 's1',
          timestamp: -86_400_000,
        }),
      ];
      await store.upsertItems('u1', items);
      const expectRoundTrip = async (expected: readonly StoredItem[]) => {
        const listed = await store.listItems('u1');
        expect(listed.map((item) => item.id)).toEqual(expected.map((item) => item.id));
        listed.forEach((item, index) => {
          const { vectors, ...rest } = item;
          const { vectors: expectedVectors, ...fields } = expected[index]!;
          // toEqual tells absent from present: undefined ≠ false, 0, '' or {}.
          expect(rest, `item "${item.id}" read back`).toEqual(fields);
          for (const key of Object.keys(everyField) as (keyof typeof everyField)[]) {
            expect(rest[key] === undefined, `field "${key}" of item "${item.id}" is absent`).toBe(
              fields[key] === undefined,
            );
          }
          expectVectorsClose(vectors, expectedVectors, tolerance);
        });
        const hashes = await store.getItemHashes(
          'u1',
          expected.map((item) => item.id),
        );
        expect(Object.fromEntries(hashes)).toEqual(
          Object.fromEntries(expected.map((item) => [item.id, item.itemHash])),
        );
      };
      await expectRoundTrip(items);
      // An update writes the whole item: fields it leaves out are gone, fields it adds are there.
      const swapped = [
        makeStoredItem('every', 'every field set'),
        makeStoredItem('falsy', 'every field set to a falsy value', falsyFields),
        makeStoredItem('none', 'no optional field', everyField),
        makeStoredItem('turn', 'a turn without a conversation id', { speaker: 'Sam', self: false }),
      ];
      expect(await store.upsertItems('u1', swapped)).toEqual({ inserted: 0, updated: 3 });
      await expectRoundTrip(swapped);
    });

    it('upserts idempotently: equal items change nothing, changed items keep their place and bump the revision', async () => {
      const store = await open();
      expect(await store.getRevision('u1')).toBe(0);
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha'), makeStoredItem('b', 'beta')]);
      const first = await store.getRevision('u1');
      expect(first).toBeGreaterThan(0);
      expect(
        await store.upsertItems('u1', [makeStoredItem('a', 'alpha'), makeStoredItem('b', 'beta')]),
      ).toEqual({
        inserted: 0,
        updated: 0,
      });
      expect(await store.getRevision('u1')).toBe(first);
      expect(
        await store.upsertItems('u1', [makeStoredItem('a', 'alpha changed'), makeStoredItem('c', 'gamma')]),
      ).toEqual({ inserted: 1, updated: 1 });
      const second = await store.getRevision('u1');
      expect(second).toBeGreaterThan(first);
      expect((await store.listItems('u1')).map((item) => [item.id, item.text])).toEqual([
        ['a', 'alpha changed'],
        ['b', 'beta'],
        ['c', 'gamma'],
      ]);
      const hashes = await store.getItemHashes('u1', ['a', 'b', 'missing']);
      expect([...hashes.keys()].sort()).toEqual(['a', 'b']);
      expect(hashes.get('a')).toBe(makeStoredItem('a', 'alpha changed').itemHash);
      // The same id twice in one batch: the last one wins, in the place of the first, counted like two calls.
      expect(
        await store.upsertItems('u1', [
          makeStoredItem('d', 'one'),
          makeStoredItem('e', 'epsilon'),
          makeStoredItem('d', 'two'),
          makeStoredItem('b', 'beta'),
        ]),
      ).toEqual({ inserted: 2, updated: 1 });
      expect((await store.listItems('u1')).map((item) => [item.id, item.text]).slice(3)).toEqual([
        ['d', 'two'],
        ['e', 'epsilon'],
      ]);
    });

    it('counts concurrent upserts of overlapping batches exactly, and stores each id whole from one batch', async () => {
      const first = await open();
      const second = await openAnother(first);
      const range = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, index) => from + index);
      // Batch a holds ids 0–11, batch b ids 6–17: ids 6–8 equal in both, ids 9–11 different.
      const textOf = (n: number, batch: 'a' | 'b') => `item ${n} from ${n <= 8 ? 'a' : batch}`;
      const batchA = range(0, 12).map((n) => makeStoredItem(`i${n}`, textOf(n, 'a')));
      const batchB = range(6, 18).map((n) => makeStoredItem(`i${n}`, textOf(n, 'b')));
      for (let round = 0; round < 4; round++) {
        const userId = `racer-${round}`;
        const counts: UpsertCounts[] = await Promise.all([
          first.upsertItems(userId, batchA),
          second.upsertItems(userId, batchB),
        ]);
        // The batch that ran second found 6 of its ids: 3 equal (neither inserted nor updated), 3 changed.
        const later = counts[0]!.updated > 0 ? 'a' : 'b';
        const [earlierCounts, laterCounts] = later === 'a' ? [counts[1], counts[0]] : counts;
        expect(earlierCounts).toEqual({ inserted: 12, updated: 0 });
        expect(laterCounts).toEqual({ inserted: 6, updated: 3 });
        const listed = await first.listItems(userId);
        const order = later === 'b' ? range(0, 18) : [...range(6, 18), ...range(0, 6)];
        expect(listed.map((item) => item.id)).toEqual(order.map((n) => `i${n}`));
        for (const item of listed) {
          const n = Number(item.id.slice(1));
          expect(item.text).toBe(textOf(n, n < 6 ? 'a' : n >= 12 ? 'b' : later));
          expectVectorsClose(item.vectors, vectorFor(item.text), tolerance);
        }
      }
    });

    it('finds stored vectors by text hash, only for the same user and encoder, and shares equal texts', async () => {
      const store = await open();
      await store.upsertItems('u1', [
        makeStoredItem('a', 'shared words'),
        makeStoredItem('b', 'shared words'),
        makeStoredItem('c', 'own', { pieceCount: 3 }),
      ]);
      await store.upsertItems('u2', [makeStoredItem('z', 'only u2 has this')]);
      const found = await store.findVectors('u1', 'test-8', [
        contentHash('shared words'),
        contentHash('own'),
        contentHash('only u2 has this'),
      ]);
      expect([...found.keys()].sort()).toEqual([contentHash('own'), contentHash('shared words')].sort());
      expect(found.get(contentHash('own'))!.pieceCount).toBe(3);
      expectVectorsClose(found.get(contentHash('own'))!.vectors, vectorFor('own', 8, 3), tolerance);
      expect((await store.findVectors('u1', 'another-encoder', [contentHash('own')])).size).toBe(0);
      expect((await store.findVectors('u2', 'test-8', [contentHash('own')])).size).toBe(0);
      // Deleting one of two items that share a text keeps the text's vectors for the other.
      expect(await store.deleteItems('u1', ['a', 'missing'])).toBe(1);
      expect((await store.findVectors('u1', 'test-8', [contentHash('shared words')])).size).toBe(1);
      expect((await store.listItems('u1')).map((item) => item.id)).toEqual(['b', 'c']);
    });

    it('deletes items by id and bumps the revision only when something was deleted', async () => {
      const store = await open();
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha'), makeStoredItem('b', 'beta')]);
      const revision = await store.getRevision('u1');
      expect(await store.deleteItems('u1', ['nope'])).toBe(0);
      expect(await store.getRevision('u1')).toBe(revision);
      expect(await store.deleteItems('u1', ['a'])).toBe(1);
      expect(await store.getRevision('u1')).not.toBe(revision);
      expect(await store.countItems('u1')).toBe(1);
      expect(await store.deleteItems('u1', ['b'])).toBe(1);
      expect(await store.listUserIds()).toEqual([]);
    });

    it('refuses to mix encoders or dimensions, with a StoreError that says what to do', async () => {
      const store = await open();
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha')]);
      const otherEncoder = await store
        .upsertItems('u1', [makeStoredItem('b', 'beta', { encoderId: 'other-8' })])
        .catch((error) => error);
      expect(StoreError.isInstance(otherEncoder)).toBe(true);
      expect(otherEncoder.message).toMatch(/encoder "other-8".*encoder "test-8".*forget/s);
      const wrongDimension = await store
        .upsertItems('u1', [makeStoredItem('b', 'beta', { encoderId: 'test-8', dimension: 4 })])
        .catch((error) => error);
      expect(StoreError.isInstance(wrongDimension)).toBe(true);
      expect(wrongDimension.message).toContain('4 dimensions');
      const mixedBatch = await store
        .upsertItems('u2', [
          makeStoredItem('a', 'alpha'),
          makeStoredItem('b', 'beta', { encoderId: 'hashing-8' }),
        ])
        .catch((error) => error);
      expect(StoreError.isInstance(mixedBatch)).toBe(true);
      const ragged = await store
        .upsertItems('u2', [makeStoredItem('a', 'alpha', { pieceCount: 2, vectors: new Float32Array(7) })])
        .catch((error) => error);
      expect(StoreError.isInstance(ragged)).toBe(true);
      // Nothing of a refused batch was stored.
      expect(await store.countItems('u2')).toBe(0);
      expect((await store.listItems('u1')).map((item) => item.id)).toEqual(['a']);
      // A forgotten user may come back with another encoder.
      await store.forget('u1');
      expect(
        await store.upsertItems('u1', [makeStoredItem('b', 'beta', { encoderId: 'other-4', dimension: 4 })]),
      ).toEqual({ inserted: 1, updated: 0 });
    });

    it.skipIf(!cache)('caches values per revision and drops them when the items change', async () => {
      const store = await open();
      if (!store.getCached || !store.setCached) {
        throw new Error('The store has no getCached/setCached: implement them, or pass `cache: false`.');
      }
      expect(await store.setCached('u1', 'persona', 0, Uint8Array.of(1))).toBe(false);
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha')]);
      const revision = await store.getRevision('u1');
      expect(await store.setCached('u1', 'persona', revision - 1, Uint8Array.of(9))).toBe(false);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
      expect(await store.setCached('u1', 'persona', revision, Uint8Array.of(1, 2, 3))).toBe(true);
      expect([...((await store.getCached('u1', 'persona')) ?? [])]).toEqual([1, 2, 3]);
      expect(await store.getCached('u2', 'persona')).toBeUndefined();
      // An upsert that changes nothing keeps the revision, so the cached value stays valid.
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha')]);
      expect([...((await store.getCached('u1', 'persona')) ?? [])]).toEqual([1, 2, 3]);
      await store.upsertItems('u1', [makeStoredItem('b', 'beta')]);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
      expect(await store.setCached('u1', 'persona', revision, Uint8Array.of(4))).toBe(false);
      await store.setCached('u1', 'persona', await store.getRevision('u1'), Uint8Array.of(5));
      await store.deleteItems('u1', ['a']);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
    });

    it.skipIf(!userState)('keeps per-user state across item changes until forget', async () => {
      const store = await open();
      if (!store.getUserState || !store.setUserState) {
        throw new Error(
          'The store has no getUserState/setUserState: implement them, or pass `userState: false`.',
        );
      }
      await store.setUserState('u1', 'projector', Uint8Array.of(7, 7));
      await store.upsertItems('u1', [makeStoredItem('a', 'alpha')]);
      expect([...((await store.getUserState('u1', 'projector')) ?? [])]).toEqual([7, 7]);
      expect(await store.getUserState('u2', 'projector')).toBeUndefined();
      await store.setUserState('u1', 'other', Uint8Array.of(1));
      await store.setUserState('u1', 'other', undefined);
      expect(await store.getUserState('u1', 'other')).toBeUndefined();
    });

    it('forgets one user everywhere, reports the counts, and leaves every other user whole', async () => {
      const store = await open();
      await store.upsertItems('u1', [
        makeStoredItem('a', 'alpha'),
        makeStoredItem('b', 'beta'),
        makeStoredItem('c', 'beta'),
      ]);
      await store.upsertItems('u2', [makeStoredItem('a', 'alpha'), makeStoredItem('x', 'u2 only')]);
      if (cache) {
        await store.setCached!('u1', 'persona', await store.getRevision('u1'), Uint8Array.of(1));
        await store.setCached!('u2', 'persona', await store.getRevision('u2'), Uint8Array.of(2));
      }
      if (userState) {
        await store.setUserState!('u1', 'projector', Uint8Array.of(3));
        await store.setUserState!('u2', 'projector', Uint8Array.of(4));
      }
      const before = await store.listItems('u2');
      const report = await store.forget('u1');
      expect(report).toMatchObject({ userId: 'u1', itemsDeleted: 3, verified: true });
      expect(await store.listItems('u1')).toEqual([]);
      expect(await store.countItems('u1')).toBe(0);
      expect(await store.getRevision('u1')).toBe(0);
      expect(await store.getItemHashes('u1', ['a', 'b', 'c'])).toEqual(new Map());
      expect((await store.findVectors('u1', 'test-8', [contentHash('alpha')])).size).toBe(0);
      expect(await store.listUserIds()).toEqual(['u2']);
      expect(await store.listItems('u2')).toEqual(before);
      if (cache) {
        expect(report.otherDeleted.cachedValues).toBe(1);
        expect(await store.getCached!('u1', 'persona')).toBeUndefined();
        expect([...((await store.getCached!('u2', 'persona')) ?? [])]).toEqual([2]);
      }
      if (userState) {
        expect(report.otherDeleted.userState).toBe(1);
        expect(await store.getUserState!('u1', 'projector')).toBeUndefined();
        expect([...((await store.getUserState!('u2', 'projector')) ?? [])]).toEqual([4]);
      }
      expect(await store.forget('never-seen')).toMatchObject({ itemsDeleted: 0, verified: true });
    });

    it('rejects an empty user id', async () => {
      const store = await open();
      await expect(store.listItems('')).rejects.toThrow(/userId/);
      await expect(store.upsertItems('', [makeStoredItem('a', 'alpha')])).rejects.toThrow(/userId/);
    });

    it('tenant isolation (property): interleaved users never see one another’s items, vectors, cache or state', async () => {
      const allowed = (id: string) => settings.nulInIds !== false || !id.includes('\u0000');
      const userIdArbitrary = fc.oneof(
        fc.constantFrom(...trickyUserIds.filter(allowed)),
        fc.string({ minLength: 1, maxLength: 6 }).filter(allowed),
      );
      const users = fc.uniqueArray(userIdArbitrary, {
        minLength: 2,
        maxLength: 4,
      });
      const command = (userCount: number) => {
        const commands = [
          {
            weight: 5,
            arbitrary: fc.record({
              type: fc.constant('upsert' as const),
              user: fc.nat(userCount - 1),
              ids: fc.array(fc.nat(9), { minLength: 1, maxLength: 5 }),
              version: fc.nat(2),
            }),
          },
          {
            weight: 2,
            arbitrary: fc.record({
              type: fc.constant('delete' as const),
              user: fc.nat(userCount - 1),
              ids: fc.array(fc.nat(9), { maxLength: 4 }),
            }),
          },
          {
            weight: cache ? 2 : 0,
            arbitrary: fc.record({
              type: fc.constant('cache' as const),
              user: fc.nat(userCount - 1),
              value: fc.nat(200),
            }),
          },
          {
            weight: userState ? 1 : 0,
            arbitrary: fc.record({
              type: fc.constant('state' as const),
              user: fc.nat(userCount - 1),
              value: fc.nat(200),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ type: fc.constant('forget' as const), user: fc.nat(userCount - 1) }),
          },
        ];
        return fc.oneof(...commands.filter((entry) => entry.weight > 0));
      };
      const scenario = users.chain((ids) =>
        fc.tuple(fc.constant(ids), fc.array(command(ids.length), { minLength: 1, maxLength: 25 })),
      );
      const textOf = (userId: string, itemNumber: number, version: number) =>
        `owner ${JSON.stringify(userId)} item ${itemNumber} version ${version}`;

      await fc.assert(
        fc.asyncProperty(scenario, async ([userIds, commands]) => {
          const store = await open();
          try {
            // The model: each user's items in first-insertion order, and their cache and state.
            const model = userIds.map(() => ({
              items: new Map<string, number>(),
              cache: undefined as number | undefined,
              state: undefined as number | undefined,
            }));
            const texts = () =>
              userIds.flatMap((userId, user) =>
                [...model[user]!.items].map(([id, version]) => textOf(userId, Number(id.slice(5)), version)),
              );
            for (const step of commands) {
              const userId = userIds[step.user]!;
              const user = model[step.user]!;
              if (step.type === 'upsert') {
                const batch = new Map(step.ids.map((n) => [`item-${n}`, n]));
                await store.upsertItems(
                  userId,
                  [...batch].map(([id, n]) => makeStoredItem(id, textOf(userId, n, step.version))),
                );
                for (const id of batch.keys()) {
                  // Any new or changed item invalidates the user's cache.
                  if (user.items.get(id) !== step.version) user.cache = undefined;
                  user.items.set(id, step.version);
                }
              } else if (step.type === 'delete') {
                const deleted = await store.deleteItems(
                  userId,
                  step.ids.map((n) => `item-${n}`),
                );
                const expected = new Set(step.ids.map((n) => `item-${n}`).filter((id) => user.items.has(id)))
                  .size;
                expect(deleted).toBe(expected);
                for (const n of step.ids) user.items.delete(`item-${n}`);
                if (expected > 0) user.cache = undefined;
              } else if (step.type === 'cache') {
                const stored = await store.setCached!(
                  userId,
                  'persona',
                  await store.getRevision(userId),
                  Uint8Array.of(step.user, step.value),
                );
                expect(stored).toBe(user.items.size > 0);
                if (stored) user.cache = step.value;
              } else if (step.type === 'state') {
                await store.setUserState!(userId, 'trained', Uint8Array.of(step.user, step.value));
                user.state = step.value;
              } else {
                const report = await store.forget(userId);
                expect(report.itemsDeleted).toBe(user.items.size);
                expect(report.verified).toBe(true);
                model[step.user] = { items: new Map(), cache: undefined, state: undefined };
              }
              // Every user, after every step: exactly their own data.
              const allTextHashes = texts().map(contentHash);
              for (const [index, id] of userIds.entries()) {
                const expected = model[index]!;
                const listed = await store.listItems(id);
                expect(listed.map((item) => item.id).sort()).toEqual([...expected.items.keys()].sort());
                for (const item of listed) {
                  expect(item.text).toBe(textOf(id, Number(item.id.slice(5)), expected.items.get(item.id)!));
                  expectVectorsClose(item.vectors, vectorFor(item.text), tolerance);
                }
                expect(await store.countItems(id)).toBe(expected.items.size);
                const hashes = await store.getItemHashes(
                  id,
                  Array.from({ length: 10 }, (_, n) => `item-${n}`),
                );
                expect([...hashes.keys()].sort()).toEqual([...expected.items.keys()].sort());
                const found = await store.findVectors(id, 'test-8', allTextHashes);
                const own = new Set(
                  [...expected.items].map(([itemId, version]) =>
                    contentHash(textOf(id, Number(itemId.slice(5)), version)),
                  ),
                );
                expect([...found.keys()].sort()).toEqual([...own].sort());
                for (const [hash, { vectors }] of found) {
                  const text = texts().find((candidate) => contentHash(candidate) === hash)!;
                  expectVectorsClose(vectors, vectorFor(text), tolerance);
                }
                if (cache) {
                  const cached = await store.getCached!(id, 'persona');
                  expect(cached === undefined ? undefined : [...cached]).toEqual(
                    expected.cache === undefined ? undefined : [index, expected.cache],
                  );
                }
                if (userState) {
                  const state = await store.getUserState!(id, 'trained');
                  expect(state === undefined ? undefined : [...state]).toEqual(
                    expected.state === undefined ? undefined : [index, expected.state],
                  );
                }
              }
              expect((await store.listUserIds()).sort()).toEqual(
                userIds.filter((_, index) => model[index]!.items.size > 0).sort(),
              );
            }
          } finally {
            opened.splice(opened.indexOf(store), 1);
            await store.close();
          }
        }),
        { numRuns: settings.propertyRuns ?? 25 },
      );
    });

    it('personalizes chat turns read back from the store: quotes carry their speaker, the user is named', async () => {
      const store = await open();
      const said = '2024-03-10T18:00:00Z';
      const chat = { conversationId: 'kitchen-chat', sessionId: 'evening', timestamp: said };
      const turns: HistoryItemInput[] = [
        { id: 'c1', text: 'How was your week, Tom?', speaker: 'Priya', ...chat },
        { id: 'c2', text: 'Started at the bakery yesterday!', speaker: 'Tom', self: true, ...chat },
        { id: 'c3', text: 'Congrats! Early shifts?', speaker: 'Priya', ...chat },
        { id: 'c4', text: 'Yes, the ovens go on at five.', speaker: 'Tom', self: true, ...chat },
      ];
      const settings = { encoder: createHashingEncoder({ dim: 64 }), embeddingCacheSize: 0, budget: 200 };
      const writer = createPersonalizer({ ...settings, store });
      await writer.ingest('tom', turns);
      // Another handle and a new personalizer: everything comes from what the store kept.
      const reader = createPersonalizer({ ...settings, store: await openAnother(store) });
      const request = { userId: 'tom', prompt: 'When did Tom start at the bakery?' };
      const result = await reader.personalize(request);
      expect(result.persona.text).toContain(
        '[2024-03-09 (said 2024-03-10), Tom] "Started at the bakery yesterday!"',
      );
      expect(result.persona.stableText).toContain('The user is "Tom".');
      expect(result.persona.evidence[0]).toMatchObject({ itemId: 'c2', speaker: 'Tom' });
      if (tolerance <= 1e-6) {
        // With exact vectors, the memory store's persona, to the byte.
        const reference = createPersonalizer(settings);
        await reference.ingest('tom', turns);
        const expected = await reference.personalize(request);
        expect(result.persona.text).toBe(expected.persona.text);
        expect(result.persona.evidence).toEqual(expected.persona.evidence);
        await reference.dispose();
      }
      await writer.dispose();
      await reader.dispose();
    });

    it('personalizes each user from only their own stored items', async () => {
      const store = await open();
      const personalizer = createPersonalizer({
        encoder: createHashingEncoder({ dim: 64 }),
        store,
        embeddingCacheSize: 0,
      });
      await personalizer.ingest('hiker', [
        { id: 'h1', text: 'Hiked the ridge trail with my dog at sunrise' },
        { id: 'shared-id', text: 'Trail running shoes with a wide toe box' },
      ]);
      await personalizer.ingest('secret-keeper', [
        { id: 'shared-id', text: 'Trail running shoes are my secret obsession, SECRETWORD' },
      ]);
      const result = await personalizer.personalize({
        userId: 'hiker',
        prompt: 'trail running shoes secret obsession',
        maxAttributions: 50,
      });
      expect(result.persona.text).not.toContain('SECRETWORD');
      expect(result.persona.attributions.map((attribution) => attribution.itemId).sort()).toEqual([
        'h1',
        'shared-id',
      ]);
      const other = await personalizer.personalize({
        userId: 'secret-keeper',
        prompt: 'ridge trail dog sunrise',
        maxAttributions: 50,
      });
      expect(other.persona.text).not.toContain('ridge');
      expect(other.usage.historyItems).toBe(1);
      await personalizer.dispose();
    });
  });
}
