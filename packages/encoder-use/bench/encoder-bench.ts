import { pathToFileURL } from 'node:url';
import { countUseTokens, createUseEncoder } from '@userplug/encoder-use';

/** Settings of {@link benchEncoder}. Every field is optional. */
export interface EncoderBenchSettings {
  /** Texts embedded per run. Default: `createBenchTexts(1000)`. */
  texts?: readonly string[];
  /** Thread counts to measure. Default `[1, 2]`. */
  threads?: readonly number[];
  /** Batch sizes to measure. Default `[16, 32, 64]`. */
  batchSizes?: readonly number[];
  /** Timed runs per configuration; the median is reported. Default `5`. */
  runs?: number;
  /** Called with each configuration's result once all runs are done. Default: nothing. */
  onResult?: (result: EncoderBenchResult) => void;
}

/** Throughput of one configuration. */
export interface EncoderBenchResult {
  /** Worker threads (`1`: the calling thread). */
  readonly threads: number;
  /** Texts per model call. */
  readonly batchSize: number;
  /** Median over runs, texts per second. */
  readonly itemsPerSecond: number;
  /** Median over runs, USE tokens per second (the model's real work unit). */
  readonly tokensPerSecond: number;
  /**
   * Median over runs, texts per CPU-second of this process (all threads): the cost of a text, nearly
   * independent of other processes competing for the cores.
   */
  readonly itemsPerCpuSecond: number;
  /** Every run, texts per second, in run order. */
  readonly runItemsPerSecond: readonly number[];
  /** Time from creating the encoder to the end of its first one-text encode, milliseconds. */
  readonly loadMilliseconds: number;
}

const commonWords = (
  'i you we they it this that my your our the a an and but or so because if when then just really very ' +
  'also still again never always maybe love like hate want need think know feel guess hope try make ' +
  'go went going come get got take took see saw watch watched read write wrote cook cooked eat ate drink ' +
  'play played run ran walk walked work worked call called book booked buy bought pay paid plan planned'
).split(' ');
const topicWords = (
  'weekend morning evening dinner lunch coffee tea pizza pasta recipe garden dog cat kids mother friend ' +
  'team meeting project deadline report budget flight hotel trip beach mountains hiking trail bike race ' +
  'marathon gym yoga guitar concert album movie series episode novel chapter podcast doctor appointment ' +
  'insurance apartment rent landlord neighbour kitchen sofa laptop phone camera photos birthday wedding ' +
  'vacation spain italy japan tokyo paris weather rain snow summer winter football basketball chess'
).split(' ');
const joiners = ['.', ',', '!', '?', ' and', ' but', ' so'];

/**
 * `count` chat-like texts of 5 to 60 words, skewed short (median about 19 words, like real messages),
 * reproducible from `seed`.
 */
export function createBenchTexts(count: number, seed = 1): string[] {
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  return Array.from({ length: count }, () => {
    const wordCount = 5 + Math.floor(55 * random() ** 2);
    const words: string[] = [];
    for (let index = 0; index < wordCount; index += 1) {
      let word = random() < 0.7 ? pick(commonWords) : pick(topicWords);
      if (index === 0) word = word[0]!.toUpperCase() + word.slice(1);
      if (index > 0 && random() < 0.08) word = `${word}${pick(joiners)}`;
      words.push(word);
    }
    return `${words.join(' ')}.`;
  });
}

/**
 * Measures USE-lite throughput for every thread count × batch size. Each configuration gets its own encoder,
 * and runs alternate between configurations, so load from other processes hits them all alike.
 */
export async function benchEncoder(settings: EncoderBenchSettings = {}): Promise<EncoderBenchResult[]> {
  const texts = settings.texts ?? createBenchTexts(1000);
  const runs = settings.runs ?? 5;
  const tokenCount = texts.reduce((sum, text) => sum + Math.min(128, Math.max(1, countUseTokens(text))), 0);
  const configurations = (settings.threads ?? [1, 2]).flatMap((threads) =>
    (settings.batchSizes ?? [16, 32, 64]).map((batchSize) => ({
      threads,
      batchSize,
      encoder: createUseEncoder({ threads, batchSize }),
      loadMilliseconds: 0,
      runItemsPerSecond: [] as number[],
      runItemsPerCpuSecond: [] as number[],
    })),
  );
  try {
    for (const configuration of configurations) {
      const start = performance.now();
      await configuration.encoder.encode(['warm up']);
      configuration.loadMilliseconds = performance.now() - start;
    }
    for (let run = 0; run < runs; run += 1) {
      for (const configuration of configurations) {
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        await configuration.encoder.encode(texts);
        const seconds = (performance.now() - start) / 1000;
        const cpu = process.cpuUsage(cpuStart);
        configuration.runItemsPerSecond.push(texts.length / seconds);
        configuration.runItemsPerCpuSecond.push(texts.length / ((cpu.user + cpu.system) / 1e6));
      }
    }
  } finally {
    await Promise.all(configurations.map((configuration) => configuration.encoder.dispose()));
  }
  return configurations.map((configuration) => {
    const itemsPerSecond = median(configuration.runItemsPerSecond);
    const result: EncoderBenchResult = {
      threads: configuration.threads,
      batchSize: configuration.batchSize,
      itemsPerSecond,
      tokensPerSecond: (itemsPerSecond * tokenCount) / texts.length,
      itemsPerCpuSecond: median(configuration.runItemsPerCpuSecond),
      runItemsPerSecond: configuration.runItemsPerSecond,
      loadMilliseconds: configuration.loadMilliseconds,
    };
    settings.onResult?.(result);
    return result;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const texts = createBenchTexts(1000);
  const meanTokens = texts.reduce((sum, text) => sum + Math.min(128, countUseTokens(text)), 0) / texts.length;
  console.log(
    `USE-lite encoder bench: ${texts.length} texts, ${meanTokens.toFixed(1)} tokens per text on average`,
  );
  console.log('threads  batch  items/s  tokens/s  items/cpu-s  load ms  runs (items/s)');
  await benchEncoder({
    texts,
    onResult: (result) =>
      console.log(
        `${String(result.threads).padStart(7)}  ${String(result.batchSize).padStart(5)}  ` +
          `${result.itemsPerSecond.toFixed(1).padStart(7)}  ${result.tokensPerSecond.toFixed(0).padStart(8)}  ` +
          `${result.itemsPerCpuSecond.toFixed(1).padStart(11)}  ` +
          `${result.loadMilliseconds.toFixed(0).padStart(7)}  ${result.runItemsPerSecond.map((value) => value.toFixed(0)).join(' ')}`,
      ),
  });
}
