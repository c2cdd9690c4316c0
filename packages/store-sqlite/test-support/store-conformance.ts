// Behaviour every UserplugStore must share; run against the memory, SQLite and PostgreSQL stores.
import {
  createHashingEncoder,
  createPersonalizer,
  type StoredItem,
  StoreError,
  type UserplugStore,
} from '@userplug/core';
import { contentHash } from '@userplug/core/internal';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

/** How to get a fresh, empty store for one test. */
export interface StoreConformanceSettings {
  /** Opens a new empty store; the suite closes it. */
  open(): Promise<UserplugStore>;
  /** Largest allowed difference between a stored and a read vector number (int8 quantisation). Default 1e-7. */
  vectorTolerance?: number;
  /** Property-test runs. Default 25. */
  propertyRuns?: number;
  /** Whether user ids may hold U+0000 (PostgreSQL text cannot). Default true. */
  nulInIds?: boolean;
}

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

/** A storable item, as a personalizer's ingest would make it. */
export function makeItem(
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
        ]),
      ),
    textHash: rest.textHash ?? contentHash(text),
    encoderId: rest.encoderId ?? `test-${dimension}`,
    vectors: rest.vectors ?? vectorFor(text, dimension, pieceCount),
    pieceCount,
    tokenCount: rest.tokenCount ?? text.split(' ').length,
  };
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
export function describeStoreConformance(settings: StoreConformanceSettings): void {
  const tolerance = settings.vectorTolerance ?? 1e-7;
  const opened: UserplugStore[] = [];
  const open = async () => {
    const store = await settings.open();
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    while (opened.length > 0) await opened.pop()!.close();
  });

  describe('store contract', () => {
    it('round-trips items with typed signals, meta and several pieces, in first-insertion order', async () => {
      const store = await open();
      const items = [
        makeItem('b', 'second text', {
          kind: 'review',
          rating: 4.5,
          timestamp: 1_714_000_000_123,
          label: 'gear',
          weight: 0.25,
          meta: { tags: ['x', 1], nested: { ok: true } },
        }),
        makeItem('a', 'first text with two pieces', { pieceCount: 2, tokenCount: 7 }),
        makeItem('c', 'third', { kind: 'post' }),
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

    it('upserts idempotently: equal items change nothing, changed items keep their place and bump the revision', async () => {
      const store = await open();
      expect(await store.getRevision('u1')).toBe(0);
      await store.upsertItems('u1', [makeItem('a', 'alpha'), makeItem('b', 'beta')]);
      const first = await store.getRevision('u1');
      expect(first).toBeGreaterThan(0);
      expect(await store.upsertItems('u1', [makeItem('a', 'alpha'), makeItem('b', 'beta')])).toEqual({
        inserted: 0,
        updated: 0,
      });
      expect(await store.getRevision('u1')).toBe(first);
      expect(await store.upsertItems('u1', [makeItem('a', 'alpha changed'), makeItem('c', 'gamma')])).toEqual(
        { inserted: 1, updated: 1 },
      );
      const second = await store.getRevision('u1');
      expect(second).toBeGreaterThan(first);
      expect((await store.listItems('u1')).map((item) => [item.id, item.text])).toEqual([
        ['a', 'alpha changed'],
        ['b', 'beta'],
        ['c', 'gamma'],
      ]);
      const hashes = await store.getItemHashes('u1', ['a', 'b', 'missing']);
      expect([...hashes.keys()].sort()).toEqual(['a', 'b']);
      expect(hashes.get('a')).toBe(makeItem('a', 'alpha changed').itemHash);
      // The same id twice in one batch: the last one wins, counted like two calls.
      expect(await store.upsertItems('u1', [makeItem('d', 'one'), makeItem('d', 'two')])).toEqual({
        inserted: 1,
        updated: 1,
      });
      expect((await store.listItems('u1')).at(-1)!.text).toBe('two');
    });

    it('finds stored vectors by text hash, only for the same user and encoder, and shares equal texts', async () => {
      const store = await open();
      await store.upsertItems('u1', [
        makeItem('a', 'shared words'),
        makeItem('b', 'shared words'),
        makeItem('c', 'own', { pieceCount: 3 }),
      ]);
      await store.upsertItems('u2', [makeItem('z', 'only u2 has this')]);
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
      await store.upsertItems('u1', [makeItem('a', 'alpha'), makeItem('b', 'beta')]);
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
      await store.upsertItems('u1', [makeItem('a', 'alpha')]);
      const otherEncoder = await store
        .upsertItems('u1', [makeItem('b', 'beta', { encoderId: 'other-8' })])
        .catch((error) => error);
      expect(StoreError.isInstance(otherEncoder)).toBe(true);
      expect(otherEncoder.message).toMatch(/encoder "other-8".*encoder "test-8".*forget/s);
      const wrongDimension = await store
        .upsertItems('u1', [makeItem('b', 'beta', { encoderId: 'test-8', dimension: 4 })])
        .catch((error) => error);
      expect(StoreError.isInstance(wrongDimension)).toBe(true);
      expect(wrongDimension.message).toContain('4 dimensions');
      const mixedBatch = await store
        .upsertItems('u2', [makeItem('a', 'alpha'), makeItem('b', 'beta', { encoderId: 'hashing-8' })])
        .catch((error) => error);
      expect(StoreError.isInstance(mixedBatch)).toBe(true);
      const ragged = await store
        .upsertItems('u2', [makeItem('a', 'alpha', { pieceCount: 2, vectors: new Float32Array(7) })])
        .catch((error) => error);
      expect(StoreError.isInstance(ragged)).toBe(true);
      // Nothing of a refused batch was stored.
      expect(await store.countItems('u2')).toBe(0);
      expect((await store.listItems('u1')).map((item) => item.id)).toEqual(['a']);
      // A forgotten user may come back with another encoder.
      await store.forget('u1');
      expect(
        await store.upsertItems('u1', [makeItem('b', 'beta', { encoderId: 'other-4', dimension: 4 })]),
      ).toEqual({ inserted: 1, updated: 0 });
    });

    it('caches values per revision and drops them when the items change', async () => {
      const store = await open();
      if (!store.getCached || !store.setCached) throw new Error('this store must support the cache');
      expect(await store.setCached('u1', 'persona', 0, Uint8Array.of(1))).toBe(false);
      await store.upsertItems('u1', [makeItem('a', 'alpha')]);
      const revision = await store.getRevision('u1');
      expect(await store.setCached('u1', 'persona', revision - 1, Uint8Array.of(9))).toBe(false);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
      expect(await store.setCached('u1', 'persona', revision, Uint8Array.of(1, 2, 3))).toBe(true);
      expect([...((await store.getCached('u1', 'persona')) ?? [])]).toEqual([1, 2, 3]);
      expect(await store.getCached('u2', 'persona')).toBeUndefined();
      await store.upsertItems('u1', [makeItem('a', 'alpha')]);
      expect(await store.getCached('u1', 'persona')).toBeDefined();
      await store.upsertItems('u1', [makeItem('b', 'beta')]);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
      expect(await store.setCached('u1', 'persona', revision, Uint8Array.of(4))).toBe(false);
      await store.setCached('u1', 'persona', await store.getRevision('u1'), Uint8Array.of(5));
      await store.deleteItems('u1', ['a']);
      expect(await store.getCached('u1', 'persona')).toBeUndefined();
    });

    it('keeps per-user state across item changes until forget', async () => {
      const store = await open();
      if (!store.getUserState || !store.setUserState) throw new Error('this store must support user state');
      await store.setUserState('u1', 'projector', Uint8Array.of(7, 7));
      await store.upsertItems('u1', [makeItem('a', 'alpha')]);
      expect([...((await store.getUserState('u1', 'projector')) ?? [])]).toEqual([7, 7]);
      expect(await store.getUserState('u2', 'projector')).toBeUndefined();
      await store.setUserState('u1', 'other', Uint8Array.of(1));
      await store.setUserState('u1', 'other', undefined);
      expect(await store.getUserState('u1', 'other')).toBeUndefined();
    });

    it('forgets one user everywhere, reports the counts, and leaves every other user whole', async () => {
      const store = await open();
      await store.upsertItems('u1', [makeItem('a', 'alpha'), makeItem('b', 'beta'), makeItem('c', 'beta')]);
      await store.upsertItems('u2', [makeItem('a', 'alpha'), makeItem('x', 'u2 only')]);
      await store.setCached!('u1', 'persona', await store.getRevision('u1'), Uint8Array.of(1));
      await store.setCached!('u2', 'persona', await store.getRevision('u2'), Uint8Array.of(2));
      await store.setUserState!('u1', 'projector', Uint8Array.of(3));
      await store.setUserState!('u2', 'projector', Uint8Array.of(4));
      const before = await store.listItems('u2');
      const report = await store.forget('u1');
      expect(report).toMatchObject({ userId: 'u1', itemsDeleted: 3, verified: true });
      expect(report.otherDeleted).toMatchObject({ cachedValues: 1, userState: 1 });
      expect(await store.listItems('u1')).toEqual([]);
      expect(await store.countItems('u1')).toBe(0);
      expect(await store.getRevision('u1')).toBe(0);
      expect((await store.findVectors('u1', 'test-8', [contentHash('alpha')])).size).toBe(0);
      expect(await store.getCached!('u1', 'persona')).toBeUndefined();
      expect(await store.getUserState!('u1', 'projector')).toBeUndefined();
      expect(await store.listUserIds()).toEqual(['u2']);
      expect(await store.listItems('u2')).toEqual(before);
      expect([...((await store.getCached!('u2', 'persona')) ?? [])]).toEqual([2]);
      expect([...((await store.getUserState!('u2', 'projector')) ?? [])]).toEqual([4]);
      expect(await store.forget('never-seen')).toMatchObject({ itemsDeleted: 0, verified: true });
    });

    it('rejects an empty user id', async () => {
      const store = await open();
      await expect(store.listItems('')).rejects.toThrow(/userId/);
      await expect(store.upsertItems('', [makeItem('a', 'alpha')])).rejects.toThrow(/userId/);
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
      const command = (userCount: number) =>
        fc.oneof(
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
            weight: 2,
            arbitrary: fc.record({
              type: fc.constant('cache' as const),
              user: fc.nat(userCount - 1),
              value: fc.nat(200),
            }),
          },
          {
            weight: 1,
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
        );
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
                  [...batch].map(([id, n]) => makeItem(id, textOf(userId, n, step.version))),
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
                const cached = await store.getCached!(id, 'persona');
                expect(cached === undefined ? undefined : [...cached]).toEqual(
                  expected.cache === undefined ? undefined : [index, expected.cache],
                );
                const state = await store.getUserState!(id, 'trained');
                expect(state === undefined ? undefined : [...state]).toEqual(
                  expected.state === undefined ? undefined : [index, expected.state],
                );
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
