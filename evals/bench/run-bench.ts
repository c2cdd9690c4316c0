// `npm run bench`: the default encoder against the TF.js one it replaced (throughput, single-query latency,
// cold start, memory, agreement), ingest throughput, personalize() latency and memory, store and local-LLM
// timings. Prints a table and writes evals/results/bench.json. Medians and ratios come from this one run.
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPersonalizer, type Encoder, loadDefaultEncoder } from '@userplug/core';
import {
  compareEncoders,
  createBenchTexts,
  createCandidate,
  createShortBenchTexts,
  measureAgreement,
  measureColdStarts,
  standardCandidates,
} from '../../packages/encoder-use/bench/encoder-bench.js';
import { benchOnnx } from '../../packages/onnx/bench/onnx-bench.js';
import { benchPostgresStore } from '../../packages/store-postgres/bench/store-bench.js';
import { benchSqliteStore } from '../../packages/store-sqlite/bench/store-bench.js';
import { benchPersonaRendering } from './bench-persona-rendering.js';
import { benchPersonalize, percentile } from './bench-personalize.js';

const resultsPath = fileURLToPath(new URL('../results/bench.json', import.meta.url));
const quick = process.argv.includes('--quick');
const log = (line: string) => process.stderr.write(`${line}\n`);

const prompts = [
  'Suggest a weekend plan for me',
  'Which running shoes should I buy next?',
  'Recommend a novel for a long flight',
  'Plan a dinner for vegetarian friends',
  'What gift should I get my sister?',
  'Find me a quiet place to stay by a lake',
  'Help me pick a coffee grinder',
  'What should I cook tonight?',
  'Where could we go for a jazz night?',
  'Which bike accessories do I need?',
  'How should I train for a half marathon?',
  'What podcast would I enjoy on my commute?',
];

async function benchIngest(texts: readonly string[], runs: number, encoder: Encoder) {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    // A fresh cache and store each run: every text is embedded.
    const personalizer = createPersonalizer({ embeddingCacheSize: 0, encoder });
    const history = texts.map((text, index) => ({ id: `run${run}-${index}`, text: `${text} (${run})` }));
    const started = performance.now();
    const result = await personalizer.ingest('ingest-bench', history);
    const seconds = (performance.now() - started) / 1000;
    if (result.embeddedTexts !== texts.length) throw new Error('ingest bench: texts were not all embedded');
    rates.push(texts.length / seconds);
    await personalizer.dispose();
  }
  return {
    items: texts.length,
    runs,
    itemsPerSecond: percentile(rates, 0.5),
    runItemsPerSecond: rates,
    llmCalls: 0,
  };
}

async function optional<T>(name: string, run: () => Promise<T>): Promise<T | { skipped: string }> {
  try {
    return await run();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`${name}: skipped (${reason})`);
    return { skipped: reason };
  }
}

const loadAtStart = loadavg()[0]!;
log('Loading the default encoder…');
const encoder = await loadDefaultEncoder();
await encoder.encode(['warm up']);
const runs = quick ? 1 : 3;

log('Encoders side by side (TF.js before, ONNX now)…');
const encoders = await compareEncoders({ runs, onProgress: log });
log('Cold starts and the first-ever conversion (fresh processes)…');
const coldStart = await measureColdStarts();
log('Agreement with TF.js on 1,000 varied texts…');
const agreement = quick ? [] : await measureAgreement();

log('Ingest (validate, embed, count tokens, store; no LLM call)…');
const before = createCandidate(standardCandidates[0]!);
await before.encode(['warm up']);
const ingest = await benchIngest(createBenchTexts(1_000, 7), runs, encoder);
const ingestBefore = await benchIngest(createBenchTexts(1_000, 7), runs, before);
// Chat-message-sized items (5 to 12 words), the shape of most history items.
const ingestShort = await benchIngest(createShortBenchTexts(1_000, 8), runs, encoder);
const ingestShortBefore = await benchIngest(createShortBenchTexts(1_000, 8), runs, before);

log('personalize() latency…');
const sizes = quick ? [100, 1_000, 10_000] : [100, 1_000, 10_000, 100_000];
const latencyTexts = createBenchTexts(2_000, 11);
const latency = await benchPersonalize({ encoder, sizes, texts: latencyTexts, prompts });
// Before: TF.js queries and float32 rows in the index.
const latencyBefore = await benchPersonalize({
  encoder: before,
  sizes,
  texts: latencyTexts,
  prompts,
  personalizer: { retrieval: { vectorPrecision: 'float32' } },
});
await before.dispose();

log('Persona rendering, 10k items…');
const personaRendering = await benchPersonaRendering({
  encoder,
  texts: createBenchTexts(2_000, 11),
  prompts,
});

log('Stores…');
const stores = {
  sqliteFloat32: await optional('sqlite', () => benchSqliteStore({ items: 10_000, runs: 5 })),
  sqliteInt8: await optional('sqlite int8', () =>
    benchSqliteStore({ items: 10_000, runs: 5, quantization: 'int8' }),
  ),
  postgres: await optional('postgres', () => benchPostgresStore({ items: 10_000, runs: 5 })),
};

log('Local ONNX LLM (tiny seeded model)…');
const onnx = await optional('onnx', () => benchOnnx({ runs: quick ? 3 : 5 }));

const report = {
  createdAt: new Date().toISOString(),
  machine: {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGigabytes: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    // One-minute load averages at the start and the end: above the core count, other jobs shared the cores.
    loadAverage: [loadAtStart, loadavg()[0]!],
  },
  encoders: {
    note: 'One process, runs interleaved. Chat texts: 5 to 60 words (about 30 USE tokens); short: 5 to 12 words. Single query: a new 4-to-12-word prompt per call.',
    results: encoders,
  },
  coldStart: {
    note: 'A fresh Node.js process (tsx, from the TypeScript sources): time since the process started when the first vector is back, and resident memory then and after 1,000 chat texts. firstConversion: the same with an empty cache, converting the TF.js graph.',
    ...coldStart,
  },
  agreement: {
    note: 'Cosine with the TF.js vectors on 1,000 varied texts (short, long, 18 languages, emoji, empty after normalisation).',
    results: agreement,
  },
  ingest: { ...ingest, encoder: encoder.id, texts: '5 to 60 words, about 30 USE tokens on average' },
  ingestShortMessages: { ...ingestShort, encoder: encoder.id, texts: '5 to 12 words' },
  ingestBefore: { ...ingestBefore, encoder: standardCandidates[0]!.name },
  ingestShortMessagesBefore: { ...ingestShortBefore, encoder: standardCandidates[0]!.name },
  personalize: {
    note: `Warm: the user's index is cached and every prompt is new, so each call embeds its query with ${encoder.id}. Histories above 2,000 items reuse 2,000 distinct texts under new ids. Memory: resident growth, live growth (heap and external after GC), and the index alone.`,
    encoder: encoder.id,
    vectorPrecision: 'int8',
    results: latency,
  },
  personalizeBefore: {
    note: 'The same with the TF.js encoder and float32 rows in the index, as before this change.',
    encoder: standardCandidates[0]!.name,
    vectorPrecision: 'float32',
    results: latencyBefore,
  },
  personaRendering,
  stores,
  onnx,
  targets: {
    ingestItemsPerSecond: 500,
    singleQueryP50Milliseconds: 2,
    personalizeP50MillisecondsAt1k: 8,
    personalizeP50MillisecondsAt100k: 60,
    coldStartMilliseconds: 1_000,
    userMegabytesAt100k: 250,
    onnxTimeToFirstTokenSpeedup: 3,
  },
};
writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);

const rows: string[][] = [['measure', 'value', 'target']];
for (const result of encoders) {
  rows.push([
    `${result.name}: chat / short items/s, query p50 / p95`,
    `${result.chatTexts.itemsPerSecond.toFixed(0)} / ${result.shortTexts.itemsPerSecond.toFixed(0)}, ${result.singleQuery.p50Milliseconds.toFixed(2)} / ${result.singleQuery.p95Milliseconds.toFixed(2)} ms`,
    '',
  ]);
}
for (const start of coldStart.cached) {
  rows.push([
    `cold start to first vector, ${start.name} (${start.code})`,
    `${start.firstVectorMilliseconds.toFixed(0)} ms, RSS ${start.rssAfterThousandTextsMegabytes.toFixed(0)} MB`,
    '≤ 1000 ms',
  ]);
}
rows.push([
  'first-ever start (converts the graph)',
  `${coldStart.firstConversion.firstVectorMilliseconds.toFixed(0)} ms (conversion ${coldStart.firstConversion.convertMilliseconds.toFixed(0)} ms)`,
  '',
]);
for (const entry of agreement) {
  rows.push([
    `cosine with TF.js, ${entry.name}`,
    `min ${entry.minimum.toFixed(5)}, median ${entry.median.toFixed(5)}`,
    '',
  ]);
}
rows.push([
  'ingest, 5–60 words, before → now',
  `${ingestBefore.itemsPerSecond.toFixed(0)} → ${ingest.itemsPerSecond.toFixed(0)} items/s`,
  '≥ 500 items/s',
]);
rows.push([
  'ingest, 5–12 words, before → now',
  `${ingestShortBefore.itemsPerSecond.toFixed(0)} → ${ingestShort.itemsPerSecond.toFixed(0)} items/s`,
  '',
]);
for (const [position, result] of latency.entries()) {
  const target = result.items === 1_000 ? '≤ 8 ms' : result.items === 100_000 ? '≤ 60 ms, ≤ 250 MB' : '';
  const old = latencyBefore[position]!;
  rows.push([
    `personalize p50 / p95, ${result.items.toLocaleString('en-US')} items, before → now`,
    `${old.p50Milliseconds.toFixed(1)} / ${old.p95Milliseconds.toFixed(1)} → ${result.p50Milliseconds.toFixed(1)} / ${result.p95Milliseconds.toFixed(1)} ms (live ${old.liveMegabytes.toFixed(0)} → ${result.liveMegabytes.toFixed(0)} MB, index ${old.indexMegabytes.toFixed(0)} → ${result.indexMegabytes.toFixed(0)} MB)`,
    target,
  ]);
}
for (const result of personaRendering.results) {
  rows.push([
    `persona rendering p50 / p95, budget ${result.budget}, 10,000 items`,
    `${result.p50Milliseconds.toFixed(1)} / ${result.p95Milliseconds.toFixed(1)} ms (${result.quoted} quotes)`,
    '',
  ]);
}
for (const [name, result] of Object.entries(stores)) {
  if ('skipped' in result) continue;
  rows.push([
    `${name}: ingest rows/s, personalize cold / warm`,
    `${result.ingestRowsPerSecond.toFixed(0)}, ${result.coldPersonalizeMilliseconds.toFixed(0)} / ${result.warmPersonalizeMilliseconds.toFixed(1)} ms`,
    '',
  ]);
}
if (!('skipped' in onnx)) {
  rows.push([
    'onnx time to first token, without / with prefix reuse',
    `${onnx.withoutReuse.timeToFirstTokenMs.toFixed(0)} / ${onnx.withReuse.timeToFirstTokenMs.toFixed(0)} ms (${onnx.timeToFirstTokenSpeedup.toFixed(1)}×)`,
    '≥ 3×',
  ]);
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
console.log(`\nWrote ${resultsPath}`);
await encoder.dispose();
