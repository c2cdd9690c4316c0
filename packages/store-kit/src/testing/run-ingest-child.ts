import {
  createHashingEncoder,
  createPersonalizer,
  type HistoryItemInput,
  type IngestResult,
  type StoredItem,
  type UserplugStore,
} from '@userplug/core';
import { killingStore } from './killing-store.js';
import { syntheticItem } from './synthetic-history.js';

/** What the parent passes to an ingest child, as JSON in `process.argv[2]`. */
export interface IngestChildTask<Location = unknown> {
  /** Where the store is, given to the child's `open`. */
  location: Location;
  userId: string;
  /** Items `prefix-0` … `prefix-(count - 1)` of the synthetic history. */
  count: number;
  batchSize: number;
  /** Id prefix. Default `item`. */
  prefix?: string;
  /** Items from this index on get another text than the synthetic history's (so they differ from another child's). */
  changedFrom?: number;
  /** SIGKILL the process in the middle of writing this batch (0-based), inside the store's transaction. */
  killInsideBatch?: number;
  /** The read of an item's vectors that is inside the store's transaction. Default 2 (see `killingStore`). */
  killAtRead?: number;
}

/** The line an ingest child writes after each batch its store committed: `batch <n> stored` (1-based). */
export const batchStoredLine = (batch: number) => `batch ${batch} stored`;

/** Reads the ingest result from an ingest child's stdout. */
export function ingestResultOf(stdout: string): IngestResult {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('result '));
  if (!line) throw new Error(`The ingest child printed no result:\n${stdout}`);
  return JSON.parse(line.slice('result '.length)) as IngestResult;
}

/** The items an ingest child reads, also for the parent to ingest the same history again. */
export function ingestChildHistory(task: Omit<IngestChildTask, 'location' | 'userId' | 'batchSize'>) {
  return Array.from({ length: task.count }, (_, index): HistoryItemInput => {
    const item = syntheticItem(index, task.prefix);
    return task.changedFrom !== undefined && index >= task.changedFrom
      ? { ...item, text: `${item.text} Changed later.` }
      : item;
  });
}

/**
 * The body of an ingest child script: `await runIngestChild((location) => createMyStore(location))`. Reads the
 * task from `process.argv[2]`, ingests the synthetic history through a personalizer with the hashing encoder
 * (64 dimensions), writes {@link batchStoredLine} after each stored batch and `result <IngestResult JSON>` at
 * the end, and closes the store.
 */
export async function runIngestChild<Location>(
  open: (location: Location) => UserplugStore | Promise<UserplugStore>,
): Promise<void> {
  const task = JSON.parse(process.argv[2]!) as IngestChildTask<Location>;
  const inner = await open(task.location);
  const killing =
    task.killInsideBatch === undefined
      ? inner
      : killingStore(inner, {
          batch: task.killInsideBatch,
          ...(task.killAtRead === undefined ? {} : { atRead: task.killAtRead }),
        });
  let batches = 0;
  const store = new Proxy(killing, {
    get(target, property, receiver) {
      if (property !== 'upsertItems') return Reflect.get(target, property, receiver);
      return async (userId: string, items: readonly StoredItem[]) => {
        const counts = await target.upsertItems(userId, items);
        process.stdout.write(`${batchStoredLine(++batches)}\n`);
        return counts;
      };
    },
  });
  const personalizer = createPersonalizer({
    encoder: createHashingEncoder({ dim: 64 }),
    store,
    batchSize: task.batchSize,
    embeddingCacheSize: 0,
  });
  const result = await personalizer.ingest(task.userId, ingestChildHistory(task));
  await personalizer.dispose();
  await inner.close();
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}
