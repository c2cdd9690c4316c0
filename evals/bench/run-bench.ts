// `npm run bench`: ingest throughput, personalize() latency and memory, store and local-LLM timings.
// Prints a table and writes evals/results/bench.json. Medians and ratios come from this one run.
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPersonalizer, loadDefaultEncoder } from '@userplug/core';
import { benchEncoder, createBenchTexts } from '../../packages/encoder-use/bench/encoder-bench.js';
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

async function benchIngest(texts: readonly string[], runs: number) {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    // A fresh cache and store each run: every text is embedded.
    const personalizer = createPersonalizer({ embeddingCacheSize: 0 });
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

log('Loading the default encoder…');
const encoder = await loadDefaultEncoder();
await encoder.encode(['warm up']);

log('Encoder throughput…');
const encoderResults = await benchEncoder({ threads: [1, 2], batchSizes: [32], runs: quick ? 1 : 3 });

log('Ingest (validate, embed, count tokens, store; no LLM call)…');
const ingest = await benchIngest(createBenchTexts(1_000, 7), quick ? 1 : 3);
// Chat-message-sized items (5 to 12 words), the shape of most history items.
const shortTexts = createBenchTexts(1_000, 8).map((text, index) =>
  text
    .split(' ')
    .slice(0, 5 + (index % 8))
    .join(' '),
);
const ingestShort = await benchIngest(shortTexts, quick ? 1 : 3);

log('personalize() latency…');
const sizes = quick ? [100, 1_000, 10_000] : [100, 1_000, 10_000, 100_000];
const latency = await benchPersonalize({ encoder, sizes, texts: createBenchTexts(2_000, 11), prompts });

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
  },
  encoder: encoderResults,
  ingest: { ...ingest, texts: '5 to 60 words, about 30 USE tokens on average' },
  ingestShortMessages: { ...ingestShort, texts: '5 to 12 words' },
  personalize: {
    note: `Warm: the user's index is cached and every prompt is new, so each call embeds its query with ${encoder.id}. Histories above 2,000 items reuse 2,000 distinct texts under new ids.`,
    encoder: encoder.id,
    results: latency,
  },
  personaRendering,
  stores,
  onnx,
  targets: {
    ingestItemsPerSecond: 150,
    personalizeP50MillisecondsAt1k: 20,
    personalizeP50MillisecondsAt100k: 100,
    onnxTimeToFirstTokenSpeedup: 3,
  },
};
writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);

const rows: string[][] = [['measure', 'value', 'target']];
for (const result of encoderResults) {
  rows.push([
    `encoder, ${result.threads} thread(s), batch ${result.batchSize}`,
    `${result.itemsPerSecond.toFixed(0)} texts/s`,
    '',
  ]);
}
rows.push([
  'ingest, 5–60 words (default encoder)',
  `${ingest.itemsPerSecond.toFixed(0)} items/s`,
  '≥ 150 items/s',
]);
rows.push([
  'ingest, 5–12 words (default encoder)',
  `${ingestShort.itemsPerSecond.toFixed(0)} items/s`,
  '≥ 150 items/s',
]);
for (const result of latency) {
  const target = result.items === 1_000 ? '≤ 20 ms' : result.items === 100_000 ? '≤ 100 ms' : '';
  rows.push([
    `personalize p50 / p95, ${result.items.toLocaleString('en-US')} items`,
    `${result.p50Milliseconds.toFixed(1)} / ${result.p95Milliseconds.toFixed(1)} ms (cold ${result.coldMilliseconds.toFixed(0)} ms, ${result.memoryMegabytes.toFixed(0)} MB)`,
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
