// Measures a store: write and read paths, with the model-free hashing encoder, so the numbers are the store's.
import {
  createHashingEncoder,
  createPersonalizer,
  type HistoryItemInput,
  type StoredItem,
  type UserplugStore,
} from '@userplug/core';
import { contentHash } from '@userplug/core/internal';

/** Settings of {@link benchStore}. Every field has a default. */
export interface StoreBenchSettings {
  /** Items in the benchmarked user's history. Default 1,000. */
  items?: number;
  /** Vector length of the hashing encoder; 512 matches the default encoder's vectors. Default 512. */
  dimension?: number;
  /** Items per upsert (the personalizer's batch size). Default 256. */
  batchSize?: number;
  /** Cold and warm personalize calls measured; medians are reported. Default 7. */
  runs?: number;
}

/** What {@link benchStore} measured. The encoder is the model-free hashing encoder: the numbers are the store's. */
export interface StoreBenchResult {
  /** The store, such as `sqlite (float32)`. */
  store: string;
  /** Items of the user. */
  items: number;
  /** Vector length. */
  dimension: number;
  /** The encoder used (hashing: no model, so the store dominates). */
  encoder: string;
  /** Rows per second written by `upsertItems` of already-embedded items, in batches. */
  upsertRowsPerSecond: number;
  /** Items per second through `personalizer.ingest` (validation, hashing, token counting, hashing encoder, store). */
  ingestRowsPerSecond: number;
  /** Median milliseconds to read the user's items and vectors (`listItems`). */
  listItemsMilliseconds: number;
  /** Median milliseconds of `personalize()` on a new personalizer: reads the store and builds the user's index. */
  coldPersonalizeMilliseconds: number;
  /** Median milliseconds of `personalize()` with the user's index cached in memory (a new prompt each call). */
  warmPersonalizeMilliseconds: number;
}

const subjects = ['I', 'We', 'My sister', 'Our team', 'A friend'];
const verbs = ['loved', 'tried', 'bought', 'returned', 'reviewed', 'planned', 'booked', 'cooked'];
const objects = [
  'trail running shoes with a wide toe box',
  'a vegetarian ramen place downtown',
  'a weekend cabin near the lake',
  'a used road bike for commuting',
  'the sci-fi novel everyone talks about',
  'a cast iron skillet',
  'tickets for the jazz festival',
  'a pour-over coffee kit',
];
// Questions about the history's own subjects, so each call has evidence to find.
const prompts = objects.map((object) => `Should I try ${object} again?`);

/** A deterministic realistic history: short varied texts with typed signals, every text distinct. */
function benchHistory(count: number, prefix = 'item'): HistoryItemInput[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`,
    text:
      `${subjects[index % subjects.length]} ${verbs[(index * 3) % verbs.length]} ${objects[(index * 7) % objects.length]}` +
      ` and wrote about it on day ${index}: ${objects[(index * 5 + 1) % objects.length]} next time.`,
    kind: ['post', 'review', 'purchase', 'message'][index % 4]!,
    timestamp: Date.UTC(2024, 0, 1) + index * 3_600_000,
    ...(index % 4 === 1 ? { rating: 1 + (index % 5) } : {}),
  }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/**
 * Measures a store: upsert and ingest throughput, and personalize latency cold (read from the store) versus warm
 * (index cached). Uses the model-free hashing encoder, so what is measured is the store and the index build,
 * not a model. `open` returns a new empty store; it is closed afterwards.
 */
export async function benchStore(
  name: string,
  open: () => Promise<UserplugStore>,
  settings: StoreBenchSettings = {},
): Promise<StoreBenchResult> {
  const count = settings.items ?? 1_000;
  const dimension = settings.dimension ?? 512;
  const batchSize = settings.batchSize ?? 256;
  const runs = settings.runs ?? 7;
  const encoder = createHashingEncoder({ dim: dimension });
  const history = benchHistory(count);
  const store = await open();
  try {
    // Ingest through the personalizer: what `userplug ingest` does. A small user first loads the tokenizer.
    const personalizer = createPersonalizer({ encoder, store, batchSize, embeddingCacheSize: 0 });
    await personalizer.ingest('bench-warm-up', benchHistory(50, 'warm-up'));
    let started = performance.now();
    await personalizer.ingest('bench-user', history);
    const ingestSeconds = (performance.now() - started) / 1000;

    // Upsert of already-embedded items: the store's own write path.
    const stored = (await store.listItems('bench-user')).map(
      (item): StoredItem => ({
        ...item,
        id: `copy-${item.id}`,
        itemHash: contentHash(`copy-${item.itemHash}`),
      }),
    );
    started = performance.now();
    for (let start = 0; start < stored.length; start += batchSize) {
      await store.upsertItems('bench-copy', stored.slice(start, start + batchSize));
    }
    const upsertSeconds = (performance.now() - started) / 1000;

    const listTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      started = performance.now();
      await store.listItems('bench-user');
      listTimes.push(performance.now() - started);
    }

    const coldTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const cold = createPersonalizer({ encoder, store, embeddingCacheSize: 0 });
      started = performance.now();
      await cold.personalize({ userId: 'bench-user', prompt: prompts[run % prompts.length]! });
      coldTimes.push(performance.now() - started);
      await cold.dispose();
    }

    await personalizer.personalize({ userId: 'bench-user', prompt: 'warm-up' });
    const warmTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      started = performance.now();
      await personalizer.personalize({
        userId: 'bench-user',
        prompt: `${prompts[run % prompts.length]!} (${run})`,
      });
      warmTimes.push(performance.now() - started);
    }
    await personalizer.dispose();
    return {
      store: name,
      items: count,
      dimension,
      encoder: `${encoder.id} (no model: measures the store)`,
      upsertRowsPerSecond: Math.round(stored.length / upsertSeconds),
      ingestRowsPerSecond: Math.round(count / ingestSeconds),
      listItemsMilliseconds: median(listTimes),
      coldPersonalizeMilliseconds: median(coldTimes),
      warmPersonalizeMilliseconds: median(warmTimes),
    };
  } finally {
    await store.close();
  }
}
