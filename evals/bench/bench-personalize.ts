import {
  createPersonalizer,
  type Encoder,
  type HistoryItemInput,
  type PersonalizerSettings,
} from '@userplug/core';

/** Latency of `personalize()` for one user of a given size. */
export interface PersonalizeLatency {
  /** Items in the user's history. */
  items: number;
  /** First call after ingest: builds the user's index (reads the store, BM25, phrase embeddings). */
  coldMilliseconds: number;
  /** Median of warm calls (index cached, every prompt new, so the query is embedded each time). */
  p50Milliseconds: number;
  /** 95th percentile of warm calls. */
  p95Milliseconds: number;
  /** Warm calls measured. */
  calls: number;
  /** Resident memory growth of holding this user (store, index, WebAssembly matrices), in MB. */
  memoryMegabytes: number;
  /** Growth of live memory (V8 heap in use plus external and WebAssembly memory, after GC) holding this user, MB. */
  liveMegabytes: number;
  /** Growth of live memory across the first `personalize()`, which builds the user's index: the index, MB. */
  indexMegabytes: number;
}

/** Settings of {@link benchPersonalize}. */
export interface BenchPersonalizeSettings {
  encoder: Encoder;
  /** History sizes. */
  sizes: readonly number[];
  /** Distinct texts; larger histories repeat them under new ids (vectors come from the embedding cache). */
  texts: readonly string[];
  /** Prompts; each warm call uses a prompt not seen before. */
  prompts: readonly string[];
  /** Warm-up calls before measuring. Default 5. */
  warmup?: number;
  /** Personalizer settings besides the encoder and budget (for example the index's `vectorPrecision`). */
  personalizer?: Omit<PersonalizerSettings, 'encoder'>;
}

const kinds = ['post', 'review', 'message', 'purchase', 'click'];

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[position] ?? Number.NaN;
}

// Resident set size: the only counter that includes WebAssembly memory.
function memoryNow(): number {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

// Live memory: V8 heap in use plus external memory (array buffers, WebAssembly memory). Needs --expose-gc to be
// exact; without it, garbage not yet collected counts too.
function liveMemoryNow(): number {
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** Builds one user of `size` items from the given texts, with typed signals spread over two years. */
export function syntheticHistory(size: number, texts: readonly string[]): HistoryItemInput[] {
  const start = Date.UTC(2023, 0, 1);
  return Array.from({ length: size }, (_, index) => ({
    id: `item-${index}`,
    text: texts[index % texts.length]!,
    kind: kinds[index % kinds.length]!,
    timestamp: start + Math.floor((index / size) * 2 * 365 * 86_400_000),
    ...(index % 5 === 1 ? { rating: 1 + (index % 5) } : {}),
  }));
}

/** Measures cold and warm `personalize()` latency and memory for users of each size. */
export async function benchPersonalize(settings: BenchPersonalizeSettings): Promise<PersonalizeLatency[]> {
  const results: PersonalizeLatency[] = [];
  const warmup = settings.warmup ?? 5;
  let promptCursor = 0;
  const nextPrompt = () => {
    const prompt = settings.prompts[promptCursor % settings.prompts.length]!;
    const round = Math.floor(promptCursor / settings.prompts.length);
    promptCursor++;
    // Past the list, vary the wording so the query cache never answers.
    return round === 0 ? prompt : `${prompt} (${round})`;
  };
  for (const size of settings.sizes) {
    const before = memoryNow();
    const liveBefore = liveMemoryNow();
    const personalizer = createPersonalizer({
      budget: 400,
      ...settings.personalizer,
      encoder: settings.encoder,
    });
    await personalizer.ingest('bench-user', syntheticHistory(size, settings.texts));
    const liveBeforeIndex = liveMemoryNow();
    let started = performance.now();
    await personalizer.personalize({ userId: 'bench-user', prompt: nextPrompt() });
    const coldMilliseconds = performance.now() - started;
    const memoryMegabytes = (memoryNow() - before) / 1e6;
    const liveAfter = liveMemoryNow();
    for (let call = 0; call < warmup; call++)
      await personalizer.personalize({ userId: 'bench-user', prompt: nextPrompt() });
    const timings: number[] = [];
    const calls = size >= 100_000 ? 30 : 60;
    for (let call = 0; call < calls; call++) {
      started = performance.now();
      await personalizer.personalize({ userId: 'bench-user', prompt: nextPrompt() });
      timings.push(performance.now() - started);
    }
    results.push({
      items: size,
      coldMilliseconds,
      p50Milliseconds: percentile(timings, 0.5),
      p95Milliseconds: percentile(timings, 0.95),
      calls,
      memoryMegabytes,
      liveMegabytes: (liveAfter - liveBefore) / 1e6,
      indexMegabytes: (liveAfter - liveBeforeIndex) / 1e6,
    });
    await personalizer.dispose();
  }
  return results;
}
