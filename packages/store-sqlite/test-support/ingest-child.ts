// A separate process that ingests a synthetic history into a SQLite store; tests SIGKILL it or run several at once.
import { createHashingEncoder, createPersonalizer } from '@userplug/core';
import { createSqliteStore } from '@userplug/store-sqlite';
import { killingStore } from './killing-store.js';
import { syntheticItem } from './synthetic-history.js';

/** What the parent test passes, as JSON in argv[2]. */
export interface IngestChildTask {
  path: string;
  userId: string;
  count: number;
  batchSize: number;
  prefix?: string;
  /** SIGKILL this process half way through writing this batch (0-based), inside the store's transaction. */
  killInsideBatch?: number;
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2]!) as IngestChildTask;
  const inner = createSqliteStore({ path: task.path, busyTimeoutMs: 30_000 });
  const store = task.killInsideBatch === undefined ? inner : killingStore(inner, task.killInsideBatch);
  const personalizer = createPersonalizer({
    encoder: createHashingEncoder({ dim: 64 }),
    store,
    batchSize: task.batchSize,
    embeddingCacheSize: 0,
  });
  async function* history() {
    for (let index = 0; index < task.count; index++) yield syntheticItem(index, task.prefix);
  }
  const result = await personalizer.ingest(task.userId, history());
  await personalizer.dispose();
  await inner.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
