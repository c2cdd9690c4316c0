// Compares USE-lite encoders in one run (TF.js, the ONNX graph at fp32 and int8, onnxruntime-web): throughput on
// chat-length and message-length texts, single-query latency, cold start in a fresh process, the first-ever
// conversion, memory, and the vectors' agreement with TF.js. Run alone to print a table:
// node --conditions=@userplug/source --import tsx packages/encoder-use/bench/encoder-bench.ts [--quick]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Encoder } from '@userplug/core';
import { countUseTokens, createUseEncoder, type UseEncoderSettings } from '@userplug/encoder-use';
import { createVariedTexts } from '../src/varied-texts.fixture.js';
import { createTfjsUseEncoder, type TfjsUseEncoderSettings } from './tfjs/create-tfjs-use-encoder.js';

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

/** `count` message-sized texts of 5 to 12 words, reproducible from `seed`. */
export function createShortBenchTexts(count: number, seed = 8): string[] {
  return createBenchTexts(count, seed).map((text, index) =>
    text
      .split(' ')
      .slice(0, 5 + (index % 8))
      .join(' '),
  );
}

/** An encoder configuration to compare. */
export type EncoderCandidate =
  | { readonly name: string; readonly kind: 'onnx'; readonly settings: UseEncoderSettings }
  | { readonly name: string; readonly kind: 'tfjs'; readonly settings: TfjsUseEncoderSettings };

/** The configurations `npm run bench` compares: the encoder before this change and after it. */
export const standardCandidates: readonly EncoderCandidate[] = [
  { name: 'TF.js wasm, 2 workers (before)', kind: 'tfjs', settings: { threads: 2 } },
  { name: 'ONNX fp32, onnxruntime-node (default)', kind: 'onnx', settings: { precision: 'fp32' } },
  { name: 'ONNX int8, onnxruntime-node', kind: 'onnx', settings: { precision: 'int8' } },
  { name: 'ONNX fp32, 1 thread', kind: 'onnx', settings: { precision: 'fp32', threads: 1 } },
  { name: 'ONNX fp32, onnxruntime-web (fallback)', kind: 'onnx', settings: { runtime: 'onnxruntime-web' } },
];

/** Creates the encoder a candidate describes. */
export function createCandidate(candidate: EncoderCandidate): Encoder {
  return candidate.kind === 'tfjs'
    ? createTfjsUseEncoder(candidate.settings)
    : createUseEncoder(candidate.settings);
}

/** Throughput on one set of texts. */
export interface Throughput {
  /** Median over runs, texts per second. */
  readonly itemsPerSecond: number;
  /** Median over runs, texts per CPU-second of this process (every thread): the cost of a text. */
  readonly itemsPerCpuSecond: number;
  /** Every run, texts per second. */
  readonly runItemsPerSecond: readonly number[];
}

/** What {@link compareEncoders} measured for one candidate, in this process. */
export interface EncoderComparison {
  readonly name: string;
  /** The vectors' encoder id. */
  readonly id: string;
  /** `onnxruntime-node`, `onnxruntime-web`, or `tfjs-wasm`. */
  readonly runtime: string;
  /** From creating the encoder to its first vector, in this warm process (imports included), ms. */
  readonly loadMilliseconds: number;
  /** Texts of 5 to 60 words (about 30 USE tokens). */
  readonly chatTexts: Throughput;
  /** Texts of 5 to 12 words. */
  readonly shortTexts: Throughput;
  /** One text per call, each new (chat prompts of 4 to 12 words). */
  readonly singleQuery: {
    readonly p50Milliseconds: number;
    readonly p95Milliseconds: number;
    readonly calls: number;
  };
}

/** Settings of {@link compareEncoders}. */
export interface CompareEncodersSettings {
  /** Default {@link standardCandidates}. */
  candidates?: readonly EncoderCandidate[];
  /** Timed runs over each text set; runs alternate between candidates so outside load hits all alike. Default 3. */
  runs?: number;
  /** Single-text calls timed per candidate. Default 200. */
  queries?: number;
  /** Called as each measurement ends, for progress logs. */
  onProgress?: (line: string) => void;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN
  );
}

/** Distinct prompts of 4 to 12 words, so no call hits a cache and lengths vary like real queries. */
export function createQueries(count: number): string[] {
  return createBenchTexts(count, 99).map((text, index) =>
    text
      .split(' ')
      .slice(0, 4 + (index % 9))
      .join(' '),
  );
}

function runtimeOf(encoder: Encoder, candidate: EncoderCandidate): string {
  if (candidate.kind === 'tfjs') return 'tfjs-wasm';
  return (encoder as { runtime?: string }).runtime ?? 'unknown';
}

/** Measures every candidate in this process; text-set runs interleave between candidates. */
export async function compareEncoders(settings: CompareEncodersSettings = {}): Promise<EncoderComparison[]> {
  const candidates = settings.candidates ?? standardCandidates;
  const runs = settings.runs ?? 3;
  const chat = createBenchTexts(1_000, 7);
  const short = createShortBenchTexts(1_000, 8);
  const queries = createQueries(settings.queries ?? 200);
  const loaded = [];
  for (const candidate of candidates) {
    const started = performance.now();
    const encoder = createCandidate(candidate);
    await encoder.encode(['warm up']);
    loaded.push({ candidate, encoder, loadMilliseconds: performance.now() - started });
    settings.onProgress?.(`${candidate.name}: loaded`);
  }
  const timings = loaded.map(() => ({
    chat: [] as number[],
    chatCpu: [] as number[],
    short: [] as number[],
    shortCpu: [] as number[],
  }));
  try {
    for (let run = 0; run < runs; run += 1) {
      for (const [index, { encoder, candidate }] of loaded.entries()) {
        for (const [texts, rates, cpuRates] of [
          [chat, timings[index]!.chat, timings[index]!.chatCpu],
          [short, timings[index]!.short, timings[index]!.shortCpu],
        ] as const) {
          const cpu = process.cpuUsage();
          const started = performance.now();
          await encoder.encode(texts);
          const seconds = (performance.now() - started) / 1000;
          const used = process.cpuUsage(cpu);
          rates.push(texts.length / seconds);
          cpuRates.push(texts.length / ((used.user + used.system) / 1e6));
        }
        settings.onProgress?.(`${candidate.name}: run ${run + 1} of ${runs}`);
      }
    }
    const results: EncoderComparison[] = [];
    for (const [index, { encoder, candidate, loadMilliseconds }] of loaded.entries()) {
      // Warm the shapes of short texts first, as a running service would be.
      for (const query of queries.slice(0, 10)) await encoder.encode([`${query} (warm)`]);
      const durations: number[] = [];
      for (const query of queries) {
        const started = performance.now();
        await encoder.encode([query]);
        durations.push(performance.now() - started);
      }
      const timing = timings[index]!;
      const throughput = (rates: number[], cpuRates: number[]): Throughput => ({
        itemsPerSecond: percentile(rates, 0.5),
        itemsPerCpuSecond: percentile(cpuRates, 0.5),
        runItemsPerSecond: rates,
      });
      results.push({
        name: candidate.name,
        id: encoder.id,
        runtime: runtimeOf(encoder, candidate),
        loadMilliseconds,
        chatTexts: throughput(timing.chat, timing.chatCpu),
        shortTexts: throughput(timing.short, timing.shortCpu),
        singleQuery: {
          p50Milliseconds: percentile(durations, 0.5),
          p95Milliseconds: percentile(durations, 0.95),
          calls: durations.length,
        },
      });
      settings.onProgress?.(`${candidate.name}: single queries timed`);
    }
    return results;
  } finally {
    await Promise.all(loaded.map(({ encoder }) => encoder.dispose()));
  }
}

/** A fresh Node.js process that loads an encoder and embeds. */
export interface ColdStart {
  readonly name: string;
  /** `compiled`: plain node on the built dist/ (what an application runs); `sources`: tsx on the TypeScript. */
  readonly code: 'compiled' | 'sources';
  /** From the process's start to its first vector (Node.js start-up, imports, model load), ms. */
  readonly firstVectorMilliseconds: number;
  /** Converting the TF.js graph to ONNX in this process, ms (0 when read from the cache; TF.js: none). */
  readonly convertMilliseconds: number;
  /** Whether the converted graph came from the cache (undefined for TF.js). */
  readonly fromCache: boolean | undefined;
  /** Resident memory after the first vector, MB. */
  readonly rssAfterFirstVectorMegabytes: number;
  /** Resident memory after also embedding 1,000 chat texts, MB. */
  readonly rssAfterThousandTextsMegabytes: number;
}

const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));
const compiledEntry = new URL('../dist/index.js', import.meta.url);

/**
 * Starts a new Node.js process that creates the candidate's encoder, embeds one text and reports
 * `performance.now()` (time since the process started), then embeds 1,000 chat texts and reports its resident
 * memory. `compiled` runs the built dist/ under plain node (ONNX candidates only); otherwise tsx runs the sources.
 */
export async function measureColdStart(
  candidate: EncoderCandidate,
  settings: { cacheDirectory?: string; compiled?: boolean } = {},
): Promise<ColdStart> {
  const compiled = settings.compiled === true && candidate.kind === 'onnx';
  const encoderSettings =
    candidate.kind === 'onnx' && settings.cacheDirectory !== undefined
      ? { ...candidate.settings, cacheDirectory: settings.cacheDirectory }
      : candidate.settings;
  const textsFile = join(mkdtempSync(join(tmpdir(), 'userplug-bench-texts-')), 'texts.json');
  writeFileSync(textsFile, JSON.stringify(createBenchTexts(1_000, 7)));
  const create = compiled
    ? `(await import(${JSON.stringify(compiledEntry.href)})).createUseEncoder(${JSON.stringify(encoderSettings)})`
    : `(await import(${JSON.stringify(import.meta.url)})).createCandidate(${JSON.stringify({ ...candidate, settings: encoderSettings })})`;
  const script = `
    const encoder = ${create};
    await encoder.encode(['I love hiking in the mountains']);
    const firstVectorMilliseconds = performance.now();
    const rssAfterFirstVector = process.memoryUsage().rss;
    const { readFileSync } = await import('node:fs');
    await encoder.encode(JSON.parse(readFileSync(${JSON.stringify(textsFile)}, 'utf8')));
    const rssAfterThousandTexts = process.memoryUsage().rss;
    const model = encoder.model;
    await encoder.dispose();
    console.log(JSON.stringify({ firstVectorMilliseconds, rssAfterFirstVector, rssAfterThousandTexts,
      convertMilliseconds: model?.convertMilliseconds ?? 0, fromCache: model?.fromCache }));`;
  const loader = compiled ? [] : ['--conditions=@userplug/source', '--import', 'tsx'];
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...loader, '--input-type=module', '--eval', script],
      { cwd: repositoryRoot, timeout: 300_000, maxBuffer: 1 << 20 },
    );
    const reported = JSON.parse(stdout.trim().split('\n').pop()!) as {
      firstVectorMilliseconds: number;
      rssAfterFirstVector: number;
      rssAfterThousandTexts: number;
      convertMilliseconds: number;
      fromCache?: boolean;
    };
    return {
      name: candidate.name,
      code: compiled ? 'compiled' : 'sources',
      firstVectorMilliseconds: reported.firstVectorMilliseconds,
      convertMilliseconds: reported.convertMilliseconds,
      fromCache: reported.fromCache,
      rssAfterFirstVectorMegabytes: reported.rssAfterFirstVector / 1e6,
      rssAfterThousandTextsMegabytes: reported.rssAfterThousandTexts / 1e6,
    };
  } finally {
    rmSync(dirname(textsFile), { recursive: true, force: true });
  }
}

/** Builds dist/ of core and this package (incremental), for the compiled cold starts. */
export async function buildForColdStart(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-b', 'packages/encoder-use'], {
    cwd: repositoryRoot,
    timeout: 300_000,
  });
}

/**
 * Cold starts into a cache that holds the converted graphs: TF.js and the ONNX graph from the sources (the same
 * footing), and the ONNX default compiled; plus the first-ever start, compiled, converting into an empty cache.
 */
export async function measureColdStarts(): Promise<{ cached: ColdStart[]; firstConversion: ColdStart }> {
  const [tfjs, fp32, int8] = standardCandidates;
  await buildForColdStart();
  const cacheDirectory = mkdtempSync(join(tmpdir(), 'userplug-bench-cache-'));
  try {
    const firstConversion = await measureColdStart(fp32!, { cacheDirectory, compiled: true });
    // Fills the cache with the int8 graph too.
    await measureColdStart(int8!, { cacheDirectory, compiled: true });
    const cached = [
      await measureColdStart(tfjs!),
      await measureColdStart(fp32!, { cacheDirectory }),
      await measureColdStart(fp32!, { cacheDirectory, compiled: true }),
      await measureColdStart(int8!, { cacheDirectory, compiled: true }),
    ];
    return { cached, firstConversion };
  } finally {
    rmSync(cacheDirectory, { recursive: true, force: true });
  }
}

/** Cosine between an encoder's vectors and TF.js's, over the varied texts. */
export interface Agreement {
  readonly name: string;
  readonly id: string;
  readonly texts: number;
  readonly minimum: number;
  readonly percentile1: number;
  readonly median: number;
}

/** Agreement with TF.js of the ONNX graph (fp32, int8, and fp32 on onnxruntime-web) on 1,000 varied texts. */
export async function measureAgreement(): Promise<Agreement[]> {
  const texts = createVariedTexts(1_000);
  const tfjs = createTfjsUseEncoder();
  let reference: Float32Array[];
  try {
    reference = await tfjs.encode(texts);
  } finally {
    await tfjs.dispose();
  }
  const results: Agreement[] = [];
  for (const candidate of standardCandidates.filter(
    (entry) => entry.kind === 'onnx' && entry.settings.threads === undefined,
  )) {
    const encoder = createCandidate(candidate);
    try {
      const vectors = await encoder.encode(texts);
      const cosines = vectors.map((vector, index) => {
        let dot = 0;
        for (let column = 0; column < vector.length; column += 1)
          dot += vector[column]! * reference[index]![column]!;
        return dot;
      });
      results.push({
        name: candidate.name,
        id: encoder.id,
        texts: texts.length,
        minimum: Math.min(...cosines),
        percentile1: percentile(cosines, 0.01),
        median: percentile(cosines, 0.5),
      });
    } finally {
      await encoder.dispose();
    }
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const chat = createBenchTexts(1_000, 7);
  const meanTokens = chat.reduce((sum, text) => sum + Math.min(128, countUseTokens(text)), 0) / chat.length;
  console.log(
    `USE-lite encoders: 1,000 chat texts (${meanTokens.toFixed(1)} tokens on average), 1,000 short texts`,
  );
  const comparisons = await compareEncoders({
    runs: quick ? 1 : 3,
    onProgress: (line) => console.error(line),
  });
  console.log('encoder                                   chat items/s  short items/s  query p50/p95 ms');
  for (const result of comparisons) {
    console.log(
      `${result.name.padEnd(40)}  ${result.chatTexts.itemsPerSecond.toFixed(0).padStart(12)}  ` +
        `${result.shortTexts.itemsPerSecond.toFixed(0).padStart(13)}  ` +
        `${result.singleQuery.p50Milliseconds.toFixed(2)} / ${result.singleQuery.p95Milliseconds.toFixed(2)}`,
    );
  }
  const { cached, firstConversion } = await measureColdStarts();
  for (const start of [...cached, firstConversion]) {
    console.log(
      `cold start ${start.name} (${start.code})${start === firstConversion ? ', first-ever, converting' : ''}: ` +
        `${start.firstVectorMilliseconds.toFixed(0)} ms to the first vector (conversion ${start.convertMilliseconds.toFixed(0)} ms), ` +
        `RSS ${start.rssAfterFirstVectorMegabytes.toFixed(0)} / ${start.rssAfterThousandTextsMegabytes.toFixed(0)} MB`,
    );
  }
  for (const agreement of await measureAgreement()) {
    console.log(
      `${agreement.name} vs TF.js on ${agreement.texts} varied texts: cosine min ${agreement.minimum.toFixed(6)}, ` +
        `1st percentile ${agreement.percentile1.toFixed(6)}, median ${agreement.median.toFixed(6)}`,
    );
  }
}
