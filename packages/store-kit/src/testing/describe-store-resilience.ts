// Crash safety and concurrency every persistent UserplugStore must have, with writers in separate processes.
import { createHashingEncoder, createPersonalizer, type UserplugStore } from '@userplug/core';
import { contentHash } from '@userplug/core/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStoredItem } from './make-stored-item.js';
import {
  batchStoredLine,
  type IngestChildTask,
  ingestChildHistory,
  ingestResultOf,
} from './run-ingest-child.js';
import { type ChildExit, startChild } from './start-child.js';

/** Where a store keeps its data so that other processes can open it, and how to run an ingest there. */
export interface StoreResilienceSettings<Location> {
  /** A new, empty place for a store (a file, a schema, a key prefix) that other processes can open too. */
  newLocation(): Location | Promise<Location>;
  /** Opens a store at a location in this process; the suite closes it. */
  open(location: Location): UserplugStore | Promise<UserplugStore>;
  /** Absolute path of a script whose body is `await runIngestChild(open)`, opening stores as `open` does. */
  ingestScript: string;
  /** Node arguments for the script. Default `['--import', 'tsx']`. */
  nodeArguments?: readonly string[];
  /** Checks beyond the store interface after a crash (an integrity check, orphaned rows); throws on damage. */
  checkIntact?(location: Location): Promise<void>;
  /** Items of the ingest killed at a random moment. Default 4,000. */
  largeIngest?: number;
  /** The read of an item's vectors that is inside the store's write transaction. Default 2 (see `killingStore`). */
  killAtRead?: number;
}

/** Registers the shared crash-safety and concurrency tests in the current `describe`. */
export function describeStoreResilience<Location>(settings: StoreResilienceSettings<Location>): void {
  const opened: UserplugStore[] = [];
  const open = async (location: Location) => {
    const store = await settings.open(location);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    while (opened.length > 0) await opened.pop()!.close();
  });
  const startIngest = (
    task: IngestChildTask<Location>,
    onLine?: (line: string) => void,
  ): ReturnType<typeof startChild> =>
    startChild(settings.ingestScript, task, {
      ...(settings.nodeArguments === undefined ? {} : { nodeArguments: settings.nodeArguments }),
      ...(onLine === undefined ? {} : { onLine }),
    });
  const expectClean = (exit: ChildExit) => expect(exit.code, exit.output).toBe(0);

  /** Each batch is one transaction: only whole batches, in order, every item complete. Returns how many. */
  async function expectWholeBatches(location: Location, batchSize: number, total: number): Promise<number> {
    await settings.checkIntact?.(location);
    const store = await open(location);
    const items = await store.listItems('u1');
    expect(items.length % batchSize).toBe(0);
    expect(items.length).toBeLessThan(total);
    expect(items.map((item) => item.id)).toEqual(
      Array.from({ length: items.length }, (_, index) => `item-${index}`),
    );
    for (const item of items) {
      expect(item.vectors.length).toBe(item.pieceCount * 64);
      expect(item.textHash).toBe(contentHash(item.text));
    }
    return items.length;
  }

  /** Ingests the whole history again: only what the crash lost is embedded and stored. */
  async function resumeIngest(location: Location, total: number, alreadyStored: number): Promise<void> {
    const store = await open(location);
    const personalizer = createPersonalizer({
      encoder: createHashingEncoder({ dim: 64 }),
      store,
      batchSize: 500,
      embeddingCacheSize: 0,
    });
    const result = await personalizer.ingest('u1', ingestChildHistory({ count: total }));
    expect(result).toMatchObject({ unchanged: alreadyStored, inserted: total - alreadyStored, updated: 0 });
    expect(result.embeddedTexts).toBe(total - alreadyStored);
    expect(await store.countItems('u1')).toBe(total);
    await personalizer.dispose();
    await settings.checkIntact?.(location);
  }

  describe('crash safety and concurrency', () => {
    it('survives SIGKILL during a large ingest: only whole batches, and the ingest resumes', async () => {
      const location = await settings.newLocation();
      const total = settings.largeIngest ?? 4_000;
      const batchSize = 250;
      let killed = false;
      // Killed once three batches are in, while later ones are being embedded and written.
      const { child, done } = startIngest({ location, userId: 'u1', count: total, batchSize }, (line) => {
        if (line === batchStoredLine(3) && !killed) killed = child.kill('SIGKILL');
      });
      const exit = await done;
      expect(exit.signal, exit.output).toBe('SIGKILL');
      const stored = await expectWholeBatches(location, batchSize, total);
      expect(stored).toBeGreaterThanOrEqual(3 * batchSize);
      await resumeIngest(location, total, stored);
    });

    it('survives SIGKILL inside a write transaction: the half-written batch is not there', async () => {
      const location = await settings.newLocation();
      const total = 2_000;
      const batchSize = 300;
      const { done } = startIngest({
        location,
        userId: 'u1',
        count: total,
        batchSize,
        killInsideBatch: 2,
        ...(settings.killAtRead === undefined ? {} : { killAtRead: settings.killAtRead }),
      });
      const exit = await done;
      expect(exit.signal, exit.output).toBe('SIGKILL');
      expect(await expectWholeBatches(location, batchSize, total)).toBe(2 * batchSize);
      await resumeIngest(location, total, 2 * batchSize);
    });

    it('parallel writer processes and a reader: no errors, no lost writes, reads only see whole batches', async () => {
      const location = await settings.newLocation();
      const reader = await open(location);
      await reader.countItems('nobody');
      const writers = 2;
      const count = 400;
      const batchSize = 50;
      let reads = 0;
      let lastRevision = 0;
      const read = async () => {
        const revision = await reader.getRevision('shared');
        expect(revision).toBeGreaterThanOrEqual(lastRevision);
        lastRevision = revision;
        const items = await reader.listItems('shared');
        for (let writer = 0; writer < writers; writer++) {
          expect(items.filter((item) => item.id.startsWith(`w${writer}-`)).length % batchSize).toBe(0);
        }
        reads++;
      };
      // A read after each batch any writer stored, while the others keep writing.
      let reading = Promise.resolve();
      const onLine = (line: string) => {
        if (line.startsWith('batch ')) reading = reading.then(read);
      };
      // Two writers share one user (contending for its rows and revision), one writes its own user.
      const children = [
        ...Array.from({ length: writers }, (_, writer) =>
          startIngest({ location, userId: 'shared', count, batchSize, prefix: `w${writer}` }, onLine),
        ),
        startIngest({ location, userId: 'own', count, batchSize, prefix: 'w9' }, onLine),
      ];
      for (const exit of await Promise.all(children.map(({ done }) => done))) expectClean(exit);
      await reading;
      expect(reads).toBe((writers + 1) * (count / batchSize));
      expect(await reader.countItems('shared')).toBe(writers * count);
      expect(await reader.countItems('own')).toBe(count);
      await settings.checkIntact?.(location);
    });

    it('concurrent ingests of one user from two processes count every item once', async () => {
      const location = await settings.newLocation();
      const count = 600;
      const changedFrom = 400;
      // Both read the same ids at the same pace; from item 400 on, their texts differ.
      const children = [
        startIngest({ location, userId: 'u1', count, batchSize: 50 }),
        startIngest({ location, userId: 'u1', count, batchSize: 50, changedFrom }),
      ];
      const exits = await Promise.all(children.map(({ done }) => done));
      for (const exit of exits) expectClean(exit);
      const results = exits.map((exit) => ingestResultOf(exit.stdout));
      for (const result of results) {
        expect(result.received).toBe(count);
        expect(result.inserted + result.updated + result.unchanged).toBe(count);
      }
      const sum = (field: 'inserted' | 'updated' | 'unchanged') =>
        results.reduce((total, result) => total + result[field], 0);
      // Whichever came second found each item stored by the other: equal (unchanged) or different (updated).
      expect([sum('inserted'), sum('updated'), sum('unchanged')]).toEqual([
        count,
        count - changedFrom,
        changedFrom,
      ]);
      const store = await open(location);
      const items = await store.listItems('u1');
      expect(items.map((item) => item.id).sort()).toEqual(
        ingestChildHistory({ count })
          .map((item) => item.id)
          .sort(),
      );
      const versions = [ingestChildHistory({ count }), ingestChildHistory({ count, changedFrom })];
      for (const item of items) {
        const index = Number(item.id.slice('item-'.length));
        expect(versions.map((history) => history[index]!.text)).toContain(item.text);
      }
    });

    it('parallel upserts, deletes and reads of one user through several handles lose nothing', async () => {
      const location = await settings.newLocation();
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(location)));
      const operations = Array.from({ length: 60 }, (_, index) => index);
      await Promise.all(
        operations.map((index) => {
          const store = stores[index % stores.length]!;
          return index % 4 === 3
            ? store.listItems('u1')
            : store.upsertItems(`u${index % 2}`, [
                makeStoredItem(`i${index}`, `text ${index}`),
                makeStoredItem(`j${index}`, `text ${index}`),
              ]);
        }),
      );
      const writes = operations.filter((index) => index % 4 !== 3);
      const ofUser = (user: number) => writes.filter((index) => index % 2 === user);
      expect(await stores[0]!.countItems('u0')).toBe(ofUser(0).length * 2);
      expect(await stores[1]!.countItems('u1')).toBe(ofUser(1).length * 2);
      await Promise.all(
        ofUser(1).map((index, position) =>
          stores[position % stores.length]!.deleteItems('u1', [`i${index}`]),
        ),
      );
      const left = await stores[2]!.listItems('u1');
      expect(left.map((item) => item.id).sort()).toEqual(
        ofUser(1)
          .map((index) => `j${index}`)
          .sort(),
      );
      // Each deleted item shared its text with a kept one: those vectors stay.
      const found = await stores[3]!.findVectors(
        'u1',
        'test-8',
        ofUser(1).map((index) => contentHash(`text ${index}`)),
      );
      expect(found.size).toBe(ofUser(1).length);
      await settings.checkIntact?.(location);
    });
  });
}
