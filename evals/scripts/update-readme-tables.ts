// Writes the measured tables of the READMEs from evals/results/, so that no number there is typed by hand:
// the blocks between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. With --check, writes nothing and
// exits 1 when a README differs from what the results say (CI runs this).
// Usage (from the repository root): npm run readme [-- --check]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdownReport } from '../../packages/evals/src/render-report.js';
import { readResults, type StoredResult } from '../../packages/evals/src/results-store.js';
import { type ServerBenchResult, serverBenchTable } from '../../packages/server/bench/server-bench-table.js';

const check = process.argv.includes('--check');
const results = readResults('evals/results');
const fixed = (value: number) => value.toFixed(3);
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function resultNamed(name: string): unknown {
  try {
    return JSON.parse(readFileSync(`evals/results/${name}`, 'utf8'));
  } catch (error) {
    throw new Error(`evals/results/${name} is missing or unreadable: run the measurement that writes it.`, {
      cause: error,
    });
  }
}

interface RetrievalRow {
  method: string;
  noise: string;
  recall: number;
  ndcg: number;
}

const methodLabels: Record<string, string> = {
  bm25: 'bm25',
  dense: 'dense (one vector per session)',
  'dense-lines': 'dense-lines (one vector per line)',
  hybrid: 'hybrid (RRF)',
  'hybrid-lines': 'hybrid-lines (RRF)',
  userplug: '**userplug**',
};

/** PersonaBench retrieval results of community_0 at K = 5 that pass the filter. */
function community0Retrieval(
  filter: (result: Record<string, unknown>) => boolean,
): Record<string, unknown>[] {
  return results
    .map((entry) => entry.result as Record<string, unknown>)
    .filter(
      (result) =>
        result.benchmark === 'personabench' &&
        result.task === 'retrieval' &&
        result.community === 'community_0' &&
        result.k === 5 &&
        filter(result),
    );
}

function personaBenchTable(): string {
  const rows = community0Retrieval(
    (result) =>
      result.sessionText === 'history-item' &&
      (result.view ?? 'sessions') === 'sessions' &&
      typeof result.recall === 'number',
  ) as unknown as RetrievalRow[];
  const noises = [...new Set(rows.map((row) => row.noise))].sort((a, b) => Number(a) - Number(b));
  const methods = Object.keys(methodLabels).filter((method) => rows.some((row) => row.method === method));
  return table(
    ['method', ...noises.map((noise) => `noise ${noise}`), 'mean Recall@5'],
    methods.map((method) => {
      const cells = noises.map((noise) => rows.find((row) => row.method === method && row.noise === noise));
      const bold = method === 'userplug' ? (text: string) => `**${text}**` : (text: string) => text;
      return [
        methodLabels[method]!,
        ...cells.map((row) => (row ? bold(`${fixed(row.recall)} / ${fixed(row.ndcg)}`) : '–')),
        bold(fixed(mean(cells.flatMap((row) => (row ? [row.recall] : []))))),
      ];
    }),
  );
}

interface PersonaRow {
  noise: string;
  view?: string;
  recall: number;
  recallAt10?: number;
  persona?: { budget: number; recall: number; tokens: number }[];
}

function personaTable(): string {
  const rows = community0Retrieval(
    (result) => result.method === 'userplug' && Array.isArray(result.persona),
  ) as unknown as PersonaRow[];
  const budgets = [...new Set(rows.flatMap((row) => row.persona!.map((entry) => entry.budget)))].sort(
    (a, b) => a - b,
  );
  const views = ['sessions', 'turns'].filter((view) => rows.some((row) => (row.view ?? 'sessions') === view));
  return table(
    ['view', 'noise', 'Recall@5', 'Recall@10', ...budgets.map((budget) => `persona@${budget}`)],
    views.flatMap((view) =>
      rows
        .filter((row) => (row.view ?? 'sessions') === view)
        .sort((a, b) => Number(a.noise) - Number(b.noise))
        .map((row) => [
          view,
          row.noise,
          fixed(row.recall),
          row.recallAt10 === undefined ? '–' : fixed(row.recallAt10),
          ...budgets.map((budget) => {
            const entry = row.persona!.find((candidate) => candidate.budget === budget);
            return entry ? `${fixed(entry.recall)} (${Math.round(entry.tokens)})` : '–';
          }),
        ]),
    ),
  );
}

interface BenchLatency {
  items: number;
  p50Milliseconds: number;
  p95Milliseconds: number;
  memoryMegabytes: number;
  liveMegabytes: number;
  indexMegabytes: number;
}

interface BenchColdStart {
  name: string;
  code: 'compiled' | 'sources';
  firstVectorMilliseconds: number;
  convertMilliseconds: number;
  rssAfterThousandTextsMegabytes: number;
}

interface BenchResults {
  encoders: {
    results: {
      name: string;
      id: string;
      chatTexts: { itemsPerSecond: number; itemsPerCpuSecond: number };
      shortTexts: { itemsPerSecond: number };
      singleQuery: { p50Milliseconds: number; p95Milliseconds: number };
    }[];
  };
  coldStart: { cached: BenchColdStart[]; firstConversion: BenchColdStart };
  agreement: {
    results: {
      name: string;
      id: string;
      texts: number;
      minimum: number;
      percentile1: number;
      median: number;
    }[];
  };
  ingest: { itemsPerSecond: number };
  ingestShortMessages: { itemsPerSecond: number };
  ingestBefore: { itemsPerSecond: number };
  ingestShortMessagesBefore: { itemsPerSecond: number };
  personalize: { results: BenchLatency[] };
  personalizeBefore: { results: BenchLatency[] };
  onnx: { timeToFirstTokenSpeedup: number } | null;
  personaRendering?: {
    items: number;
    results: { budget: number; p50Milliseconds: number; p95Milliseconds: number }[];
  };
  targets: Record<string, number>;
  machine: { cpus: number; cpuModel: string; node: string; loadAverage?: [number, number] };
}

function benchResults(): BenchResults {
  return resultNamed('bench.json') as BenchResults;
}

function benchIntro(bench: BenchResults): string {
  const { machine } = bench;
  const load = machine.loadAverage
    ? `, load average ${machine.loadAverage[0].toFixed(1)} at the start and ${machine.loadAverage[1].toFixed(1)} at the end`
    : '';
  return `One run on a ${machine.cpus}-core machine (${machine.cpuModel}, Node ${machine.node}${load}), medians`;
}

function benchTable(): string {
  const bench = benchResults();
  const { targets } = bench;
  const pair = (results: BenchLatency[], items: number) => {
    const result = results.find((entry) => entry.items === items);
    return result
      ? `${result.p50Milliseconds.toFixed(1)} / ${result.p95Milliseconds.toFixed(1)} ms`
      : 'not measured';
  };
  const latency = (items: number) =>
    `${pair(bench.personalizeBefore.results, items)} → **${pair(bench.personalize.results, items)}**`;
  const largest = (results: BenchLatency[]) => results[results.length - 1]!;
  const defaultEncoder = bench.encoders.results.find((entry) => entry.name.includes('(default)'))!;
  const before = bench.encoders.results.find((entry) => entry.name.includes('(before)'))!;
  const compiledStart = bench.coldStart.cached.find(
    (entry) => entry.code === 'compiled' && entry.name.includes('(default)'),
  )!;
  const rate = (value: number) => `${Math.round(value)} items/s`;
  return `${benchIntro(bench)}; before (TF.js encoder, float32 index) → now (ONNX encoder, int8 index):\n\n${table(
    ['measure', 'before → now', 'target'],
    [
      [
        'ingest, items of 5–60 words (default encoder, no LLM call)',
        `${rate(bench.ingestBefore.itemsPerSecond)} → **${rate(bench.ingest.itemsPerSecond)}**`,
        `≥ ${targets.ingestItemsPerSecond} items/s`,
      ],
      [
        'ingest, items of 5–12 words',
        `${rate(bench.ingestShortMessagesBefore.itemsPerSecond)} → **${rate(bench.ingestShortMessages.itemsPerSecond)}**`,
        '',
      ],
      [
        'embedding one query, p50 / p95',
        `${before.singleQuery.p50Milliseconds.toFixed(1)} / ${before.singleQuery.p95Milliseconds.toFixed(1)} ms → **${defaultEncoder.singleQuery.p50Milliseconds.toFixed(1)} / ${defaultEncoder.singleQuery.p95Milliseconds.toFixed(1)} ms**`,
        `p50 ≤ ${targets.singleQueryP50Milliseconds} ms`,
      ],
      [
        '`personalize()` warm p50 / p95, 1k items',
        latency(1_000),
        `p50 ≤ ${targets.personalizeP50MillisecondsAt1k} ms`,
      ],
      ['`personalize()` warm p50 / p95, 10k items', latency(10_000), ''],
      [
        '`personalize()` warm p50 / p95, 100k items',
        latency(100_000),
        `p50 ≤ ${targets.personalizeP50MillisecondsAt100k} ms`,
      ],
      ...[300, 2_000].map((budget) => {
        const rendering = bench.personaRendering?.results.find((result) => result.budget === budget);
        return [
          `persona rendering p50 / p95, budget ${budget.toLocaleString('en-US')}, 10k items`,
          rendering
            ? `${rendering.p50Milliseconds.toFixed(1)} / ${rendering.p95Milliseconds.toFixed(1)} ms`
            : 'not measured yet',
          '',
        ];
      }),
      [
        `memory of a ${largest(bench.personalize.results).items.toLocaleString('en-US')}-item user: live (store + index) / its index`,
        `${Math.round(largest(bench.personalizeBefore.results).liveMegabytes)} / ${Math.round(largest(bench.personalizeBefore.results).indexMegabytes)} MB → **${Math.round(largest(bench.personalize.results).liveMegabytes)} / ${Math.round(largest(bench.personalize.results).indexMegabytes)} MB**`,
        `≤ ${targets.userMegabytesAt100k} MB`,
      ],
      [
        'same, resident memory growth (includes V8 heap kept after GC)',
        `${Math.round(largest(bench.personalizeBefore.results).memoryMegabytes)} MB → ${Math.round(largest(bench.personalize.results).memoryMegabytes)} MB`,
        '',
      ],
      [
        'cold start: new process to first vector (compiled, graph cached)',
        `**${Math.round(compiledStart.firstVectorMilliseconds)} ms**`,
        `≤ ${targets.coldStartMilliseconds} ms`,
      ],
      [
        'local ONNX time to first token, second query of a user (prefix reuse)',
        bench.onnx ? `${bench.onnx.timeToFirstTokenSpeedup.toFixed(1)}× faster` : 'not measured',
        `≥ ${targets.onnxTimeToFirstTokenSpeedup}×`,
      ],
    ],
  )}`;
}

function encoderTable(): string {
  const bench = benchResults();
  const fixed2 = (value: number) => value.toFixed(2);
  const throughput = table(
    [
      'encoder',
      'id',
      'items/s, 5–60 words',
      'items/s, 5–12 words',
      'items per CPU-second, 5–60 words',
      'one query p50 / p95',
    ],
    bench.encoders.results.map((entry) => [
      entry.name,
      `\`${entry.id}\``,
      `${Math.round(entry.chatTexts.itemsPerSecond)}`,
      `${Math.round(entry.shortTexts.itemsPerSecond)}`,
      `${Math.round(entry.chatTexts.itemsPerCpuSecond)}`,
      `${fixed2(entry.singleQuery.p50Milliseconds)} / ${fixed2(entry.singleQuery.p95Milliseconds)} ms`,
    ]),
  );
  const starts = table(
    ['new process', 'code', 'to first vector', 'of it converting', 'RSS after 1,000 texts'],
    [...bench.coldStart.cached, bench.coldStart.firstConversion].map((entry) => [
      entry === bench.coldStart.firstConversion ? `${entry.name}, first-ever (empty cache)` : entry.name,
      entry.code,
      `${Math.round(entry.firstVectorMilliseconds)} ms`,
      entry.convertMilliseconds > 0 ? `${Math.round(entry.convertMilliseconds)} ms` : '–',
      `${Math.round(entry.rssAfterThousandTextsMegabytes)} MB`,
    ]),
  );
  const agreement =
    bench.agreement.results.length === 0
      ? 'Agreement with TF.js: not measured in this run (`--quick`).'
      : table(
          ['vs TF.js, cosine on 1,000 varied texts', 'id', 'minimum', '1st percentile', 'median'],
          bench.agreement.results.map((entry) => [
            entry.name,
            `\`${entry.id}\``,
            entry.minimum.toFixed(7),
            entry.percentile1.toFixed(7),
            entry.median.toFixed(7),
          ]),
        );
  return `${benchIntro(bench)}, runs interleaved:\n\n${throughput}\n\n${starts}\n\n${agreement}`;
}

function reportSections(): string {
  const retrieval = results.filter((entry: StoredResult) => {
    const result = entry.result as Record<string, unknown>;
    return result.benchmark === 'personabench' && result.task === 'retrieval';
  });
  return renderMarkdownReport(retrieval)
    .split('\n')
    .slice(2)
    .map((line) => (line.startsWith('## ') ? `#${line}` : line))
    .join('\n')
    .trim();
}

function sweepTable(file: string): string {
  const sweep = resultNamed(file) as {
    variants: Record<
      string,
      {
        recallByNoise: Record<string, number>;
        personaByNoise?: Record<string, { budget: number; recall: number }[]>;
      }
    >;
    leaveOnePersonOut: { person: string; picks: string; recall: number; defaultRecall: number }[];
  };
  const entries = Object.entries(sweep.variants);
  const noises = Object.keys(entries[0]![1].recallByNoise).sort((a, b) => Number(a) - Number(b));
  const budgets = [
    ...new Set(
      entries.flatMap(([, variant]) =>
        Object.values(variant.personaByNoise ?? {}).flatMap((list) => list.map((entry) => entry.budget)),
      ),
    ),
  ].sort((a, b) => a - b);
  const personaMean = (variant: (typeof entries)[number][1], budget: number) =>
    fixed(
      mean(
        noises.map(
          (noise) => variant.personaByNoise?.[noise]?.find((entry) => entry.budget === budget)?.recall ?? 0,
        ),
      ),
    );
  const rows = entries.map(([name, variant]) => [
    name,
    ...noises.map((noise) => fixed(variant.recallByNoise[noise]!)),
    fixed(mean(noises.map((noise) => variant.recallByNoise[noise]!))),
    ...budgets.map((budget) => personaMean(variant, budget)),
  ]);
  const heldOut = sweep.leaveOnePersonOut.map(
    (entry) =>
      `${entry.person}: picks ${entry.picks}, ${fixed(entry.recall)} (defaults ${fixed(entry.defaultRecall)})`,
  );
  return [
    table(
      [
        'setting',
        ...noises.map((noise) => `noise ${noise}`),
        'mean',
        ...budgets.map((budget) => `mean persona@${budget}`),
      ],
      rows,
    ),
    '',
    `Leave one person out (the setting best on the other two people, scored on the third): ${heldOut.join('; ')}.`,
  ].join('\n');
}

const blocks: Record<string, Record<string, () => string>> = {
  'README.md': { personabench: personaBenchTable, persona: personaTable, bench: benchTable },
  'packages/encoder-use/README.md': { encoders: encoderTable },
  'packages/evals/README.md': { report: reportSections },
  'packages/core/README.md': {
    sweep: () => sweepTable('personabench-sweep-community-0.json'),
    'sweep-turns': () => sweepTable('personabench-sweep-community-0-turns.json'),
  },
  'packages/server/README.md': {
    'server-bench': () => serverBenchTable(resultNamed('server-bench.json') as ServerBenchResult),
  },
};

function formatMarkdown(path: string, text: string): string {
  return execFileSync('node_modules/.bin/biome', ['format', `--stdin-file-path=${path}`], {
    input: text,
    encoding: 'utf8',
  });
}

let stale = 0;
for (const [path, generators] of Object.entries(blocks)) {
  const current = readFileSync(path, 'utf8');
  let updated = current;
  for (const [name, generate] of Object.entries(generators)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = updated.indexOf(start);
    const to = updated.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${path} has no ${start} … ${end} block.`);
    updated = `${updated.slice(0, from + start.length)}\n\n${generate()}\n\n${updated.slice(to)}`;
  }
  updated = formatMarkdown(path, updated);
  if (updated === current) continue;
  stale++;
  if (check)
    process.stderr.write(`${path} does not show what evals/results/ holds: run \`npm run readme\`.\n`);
  else {
    writeFileSync(path, updated);
    process.stdout.write(`updated ${path}\n`);
  }
}
if (check && stale > 0) process.exit(1);
