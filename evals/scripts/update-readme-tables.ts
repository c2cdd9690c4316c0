// Writes the measured tables of the READMEs from evals/results/, so that no number there is typed by hand:
// the blocks between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. With --check, writes nothing and
// exits 1 when a README differs from what the results say (CI runs this).
// Usage (from the repository root): npm run readme [-- --check]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdownReport } from '../../packages/evals/src/render-report.js';
import { readResults, type StoredResult } from '../../packages/evals/src/results-store.js';

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

function benchTable(): string {
  const bench = resultNamed('bench.json') as {
    ingest: { itemsPerSecond: number };
    ingestShortMessages: { itemsPerSecond: number };
    personalize: {
      results: { items: number; p50Milliseconds: number; p95Milliseconds: number; memoryMegabytes: number }[];
    };
    onnx: { timeToFirstTokenSpeedup: number } | null;
    personaRendering?: {
      items: number;
      results: { budget: number; p50Milliseconds: number; p95Milliseconds: number }[];
    };
    targets: Record<string, number>;
    machine: { cpus: number; cpuModel: string; node: string };
  };
  const latency = (items: number) => bench.personalize.results.find((result) => result.items === items)!;
  const milliseconds = (items: number) =>
    `${latency(items).p50Milliseconds.toFixed(1)} / ${latency(items).p95Milliseconds.toFixed(1)} ms`;
  const { targets, machine } = bench;
  const intro = `One run on a ${machine.cpus}-core machine (${machine.cpuModel}, Node ${machine.node}), medians:`;
  return `${intro}\n\n${table(
    ['measure', 'result', 'target'],
    [
      [
        'ingest, items of 5–60 words (default encoder, no LLM call)',
        `${Math.round(bench.ingest.itemsPerSecond)} items/s`,
        `≥ ${targets.ingestItemsPerSecond} items/s`,
      ],
      [
        'ingest, items of 5–12 words',
        `${Math.round(bench.ingestShortMessages.itemsPerSecond)} items/s`,
        `≥ ${targets.ingestItemsPerSecond} items/s`,
      ],
      [
        '`personalize()` warm p50 / p95, 1k items',
        milliseconds(1_000),
        `p50 ≤ ${targets.personalizeP50MillisecondsAt1k} ms`,
      ],
      ['`personalize()` warm p50 / p95, 10k items', milliseconds(10_000), ''],
      [
        '`personalize()` warm p50 / p95, 100k items',
        milliseconds(100_000),
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
        'memory of a 100k-item user (store + index)',
        `${Math.round(latency(100_000).memoryMegabytes)} MB`,
        '',
      ],
      [
        'local ONNX time to first token, second query of a user (prefix reuse)',
        bench.onnx ? `${bench.onnx.timeToFirstTokenSpeedup.toFixed(1)}× faster` : 'not measured',
        `≥ ${targets.onnxTimeToFirstTokenSpeedup}×`,
      ],
    ],
  )}`;
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
  'packages/evals/README.md': { report: reportSections },
  'packages/core/README.md': {
    sweep: () => sweepTable('personabench-sweep-community-0.json'),
    'sweep-turns': () => sweepTable('personabench-sweep-community-0-turns.json'),
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
