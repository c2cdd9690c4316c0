import type { StoredResult } from './results-store.js';
import type { PersonaBenchRetrievalResult } from './run-personabench-retrieval.js';

interface RetrievalRow {
  community: string;
  noise: string;
  k: number;
  method: string;
  encoder: string | null;
  sessionText: string;
  /** Absent in results written before the turns view existed: sessions. */
  view?: string;
  recall: number;
  ndcg: number;
  n: number;
  byCategory: Record<string, { recall: number; ndcg: number; n: number }>;
  recallAt10?: number;
  persona?: PersonaBenchRetrievalResult['persona'];
  answerTurns?: PersonaBenchRetrievalResult['answerTurns'];
}

interface QaRow {
  community: string;
  noise: string;
  k: number;
  method: string;
  model: string;
  precision: number;
  recall: number;
  f1: number;
  n: number;
  outdated: { recall: number; n: number };
}

interface LampRow {
  task: string;
  split: string;
  timeBased: boolean;
  method: string;
  k: number;
  model: string;
  modelKind: string;
  metrics: Record<string, number>;
}

/** The results a report shows, grouped for tables and charts. */
export interface ReportData {
  retrieval: RetrievalRow[];
  qa: QaRow[];
  lamp: LampRow[];
}

const categoryNames: Record<string, string> = {
  Basic_information_easy: 'Basic information',
  Preference_easy: 'Preference (easy)',
  Preference_hard: 'Preference (hard)',
  Social_easy: 'Social',
};

const methodOrder = ['bm25', 'dense', 'dense-lines', 'hybrid', 'hybrid-lines', 'userplug'];

function byMethod(left: string, right: string): number {
  const a = methodOrder.indexOf(left);
  const b = methodOrder.indexOf(right);
  return (a === -1 ? 99 : a) - (b === -1 ? 99 : b) || left.localeCompare(right);
}

/** Sorts stored results into the report's groups. */
export function collectReportData(results: readonly StoredResult[]): ReportData {
  const data: ReportData = { retrieval: [], qa: [], lamp: [] };
  for (const { result } of results) {
    const r = result as Record<string, unknown>;
    // Training summaries (`userplug train` checks) share the benchmark and task but hold runs, not one score.
    if (r.benchmark === 'personabench' && r.task === 'retrieval' && typeof r.recall === 'number')
      data.retrieval.push(r as unknown as RetrievalRow);
    else if (r.benchmark === 'personabench' && r.task === 'qa') data.qa.push(r as unknown as QaRow);
    else if (r.benchmark === 'lamp' && r.metrics) {
      data.lamp.push({
        task: String(r.task),
        split: String(r.split),
        timeBased: r.timeBased === true,
        method: String(r.method),
        k: Number(r.k),
        model: String(r.model),
        modelKind: String(r.modelKind),
        metrics: Object.fromEntries(
          Object.entries(r.metrics as Record<string, unknown>).filter(
            ([key, value]) => typeof value === 'number' && key !== 'n' && key !== 'invalid',
          ),
        ) as Record<string, number>,
      });
    }
  }
  data.retrieval.sort(
    (a, b) =>
      a.community.localeCompare(b.community) ||
      byMethod(a.method, b.method) ||
      Number(a.noise) - Number(b.noise),
  );
  data.lamp.sort((a, b) => a.task.localeCompare(b.task) || byMethod(a.method, b.method));
  return data;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name) ?? [];
    group.push(item);
    groups.set(name, group);
  }
  return groups;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

const fixed = (value: number) => value.toFixed(3);

function retrievalGroups(rows: readonly RetrievalRow[]) {
  return groupBy(
    rows,
    (row) => `${row.community}\u0000${row.k}\u0000${row.sessionText}\u0000${row.view ?? 'sessions'}`,
  );
}

function retrievalTitle(rows: readonly RetrievalRow[]): string {
  const first = rows[0]!;
  const encoders = unique(
    rows.map((row) => row.encoder).filter((encoder): encoder is string => encoder !== null),
  );
  const text =
    (first.sessionText === 'official-json' ? ', sessions as official JSON' : '') +
    (first.view === 'turns' ? ', turns view (one document per message, read back as sessions)' : '');
  return `PersonaBench retrieval, ${first.community}, K = ${first.k}${encoders.length > 0 ? ` (encoder ${encoders.join(', ')})` : ''}${text}`;
}

/**
 * Persona evidence recall of the rows that rendered a persona: the share of gold evidence sessions quoted at each
 * budget (mean persona tokens in brackets), next to the ranking's Recall@K and Recall@10.
 */
function personaTable(rows: readonly RetrievalRow[], k: number): string[] {
  const rendered = rows.filter((row) => row.persona && row.persona.length > 0);
  if (rendered.length === 0) return [];
  const budgets = unique(rendered.flatMap((row) => row.persona!.map((entry) => entry.budget))).sort(
    (a, b) => a - b,
  );
  const lines = [
    '',
    'Persona evidence recall: the share of gold evidence sessions quoted in the persona text at each budget (mean ' +
      `persona tokens in brackets), next to the ranking's Recall@${k} and Recall@10.`,
    '',
    `| method | noise | Recall@${k} | Recall@10 | ${budgets.map((budget) => `persona ${budget}`).join(' | ')} |`,
    `|---|---|---|---|${budgets.map(() => '---').join('|')}|`,
  ];
  for (const row of rendered) {
    const cells = budgets.map((budget) => {
      const entry = row.persona!.find((candidate) => candidate.budget === budget);
      return entry ? `${fixed(entry.recall)} (${Math.round(entry.tokens)})` : '–';
    });
    const recallAt10 = row.recallAt10 === undefined ? '–' : fixed(row.recallAt10);
    lines.push(
      `| ${row.method} | ${row.noise} | ${fixed(row.recall)} | ${recallAt10} | ${cells.join(' | ')} |`,
    );
  }
  const turns = rendered.filter((row) => row.answerTurns);
  if (turns.length > 0) {
    lines.push(
      '',
      'Turn level (a development proxy: the turns of the gold evidence that state the answer): share of them in the ' +
        'top 5 and top 10 turns, and in the persona at each budget.',
      '',
      `| method | noise | questions | Recall@5 | Recall@10 | ${budgets.map((budget) => `persona ${budget}`).join(' | ')} |`,
      `|---|---|---|---|---|${budgets.map(() => '---').join('|')}|`,
    );
    for (const row of turns) {
      const summary = row.answerTurns!;
      const cells = budgets.map((budget) => {
        const entry = summary.persona.find((candidate) => candidate.budget === budget);
        return entry ? fixed(entry.recall) : '–';
      });
      lines.push(
        `| ${row.method} | ${row.noise} | ${summary.n} | ${fixed(summary.recallAt5)} | ${fixed(summary.recallAt10)} | ${cells.join(' | ')} |`,
      );
    }
  }
  return lines;
}

/** The Markdown report: one table per benchmark setting. */
export function renderMarkdownReport(results: readonly StoredResult[]): string {
  const data = collectReportData(results);
  const lines: string[] = ['# userplug evaluation results', ''];
  for (const rows of retrievalGroups(data.retrieval).values()) {
    const k = rows[0]!.k;
    const noises = unique(rows.map((row) => row.noise)).sort((a, b) => Number(a) - Number(b));
    lines.push(
      `## ${retrievalTitle(rows)}`,
      '',
      `Recall@${k} / NDCG@${k} (official scorer, Subjective skipped), by noise level.`,
      '',
    );
    lines.push(
      `| method | ${noises.map((noise) => `noise ${noise}`).join(' | ')} |`,
      `|---|${noises.map(() => '---').join('|')}|`,
    );
    for (const [method, methodRows] of groupBy(rows, (row) => row.method)) {
      const cells = noises.map((noise) => {
        const row = methodRows.find((candidate) => candidate.noise === noise);
        return row ? `${fixed(row.recall)} / ${fixed(row.ndcg)}` : '–';
      });
      lines.push(`| ${method} | ${cells.join(' | ')} |`);
    }
    const focus = noises.includes('0.5') ? '0.5' : noises.at(-1)!;
    const focusRows = rows.filter((row) => row.noise === focus);
    const categories = unique(focusRows.flatMap((row) => Object.keys(row.byCategory))).sort();
    if (categories.length > 0) {
      lines.push(
        '',
        `By question category at noise ${focus} (Recall@${k} / NDCG@${k}; n per category in the header):`,
        '',
      );
      const counts = categories.map((category) => focusRows[0]!.byCategory[category]?.n ?? 0);
      lines.push(
        `| method | overall (n ${focusRows[0]!.n}) | ${categories.map((category, index) => `${categoryNames[category] ?? category} (n ${counts[index]})`).join(' | ')} |`,
        `|---|---|${categories.map(() => '---').join('|')}|`,
      );
      for (const row of focusRows) {
        const cells = categories.map((category) => {
          const group = row.byCategory[category];
          return group ? `${fixed(group.recall)} / ${fixed(group.ndcg)}` : '–';
        });
        lines.push(`| ${row.method} | ${fixed(row.recall)} / ${fixed(row.ndcg)} | ${cells.join(' | ')} |`);
      }
    }
    lines.push(...personaTable(rows, k));
    lines.push('');
  }
  if (data.qa.length > 0) {
    lines.push(
      '## PersonaBench end-to-end QA',
      '',
      'Word-set precision / recall / F1 (official), outdated-value recall (lower is better).',
      '',
    );
    lines.push(
      '| community | noise | context | model | precision | recall | F1 | outdated recall | n |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const row of data.qa) {
      lines.push(
        `| ${row.community} | ${row.noise} | ${row.method} (K ${row.k}) | ${row.model} | ${fixed(row.precision)} | ${fixed(row.recall)} | ${fixed(row.f1)} | ${fixed(row.outdated.recall)} | ${row.n} |`,
      );
    }
    lines.push('');
  }
  for (const [name, rows] of groupBy(
    data.lamp,
    (row) => `${row.task}\u0000${row.split}\u0000${row.timeBased}`,
  )) {
    const [task, split, time] = name.split('\u0000');
    const metrics = unique(rows.flatMap((row) => Object.keys(row.metrics)));
    lines.push(`## ${task} ${split}${time === 'true' ? ' (time-based)' : ' (user-based)'}`, '');
    lines.push(
      `| method | model | ${metrics.join(' | ')} |`,
      `|---|---|${metrics.map(() => '---').join('|')}|`,
    );
    for (const row of rows) {
      const model = row.modelKind === 'baseline' ? `${row.model} (baseline, not an LLM)` : row.model;
      lines.push(
        `| ${row.method} (k ${row.k}) | ${model} | ${metrics.map((metric) => (row.metrics[metric] === undefined ? '–' : row.metrics[metric]!.toFixed(4))).join(' | ')} |`,
      );
    }
    lines.push('');
  }
  if (data.retrieval.length + data.qa.length + data.lamp.length === 0) lines.push('No results yet.', '');
  return lines.join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum and its tick step: 0.3 → ticks every 0.05, 0.8 → every 0.1, 4 → every 1. */
function axis(max: number): { top: number; step: number } {
  if (max <= 1) {
    const top = Math.min(1, Math.ceil(max * 10 - 1e-9) / 10 || 0.1);
    return { top, step: top <= 0.5 ? 0.05 : 0.1 };
  }
  const top = Math.ceil(max);
  return { top, step: top <= 10 ? 1 : Math.ceil(top / 10) };
}

const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

/** A grouped bar chart: one group per category, one bar per series; values printed on the bars. */
export function barChartSvg(
  title: string,
  categories: readonly string[],
  series: readonly { name: string; values: readonly (number | undefined)[] }[],
): string {
  const width = Math.max(480, 90 + categories.length * (series.length * 34 + 28));
  const height = 300;
  const left = 48;
  const top = 40;
  const plotHeight = 190;
  const max = Math.max(
    1e-9,
    ...series.flatMap((item) => item.values.filter((value): value is number => value !== undefined)),
  );
  const { top: scaleMax, step } = axis(max);
  const groupWidth = (width - left - 20) / Math.max(1, categories.length);
  const barWidth = Math.min(30, (groupWidth - 16) / Math.max(1, series.length));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`,
  ];
  for (let tick = 0; tick <= Math.round(scaleMax / step); tick++) {
    const value = tick * step;
    const y = (top + plotHeight - (plotHeight * value) / scaleMax).toFixed(1);
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${left - 6}" y="${y}" dy="4" font-size="10" text-anchor="end">${value.toFixed(2)}</text>`,
    );
  }
  categories.forEach((category, group) => {
    const x0 = left + group * groupWidth + (groupWidth - barWidth * series.length) / 2;
    series.forEach((item, index) => {
      const value = item.values[group];
      if (value === undefined) return;
      const barHeight = (plotHeight * Math.min(value, scaleMax)) / scaleMax;
      const x = x0 + index * barWidth;
      const y = top + plotHeight - barHeight;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${palette[index % palette.length]}"><title>${escapeHtml(`${category}, ${item.name}: ${value.toFixed(3)}`)}</title></rect>`,
        `<text x="${(x + (barWidth - 3) / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="9" text-anchor="middle">${value.toFixed(3)}</text>`,
      );
    });
    parts.push(
      `<text x="${(left + group * groupWidth + groupWidth / 2).toFixed(1)}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${escapeHtml(category)}</text>`,
    );
  });
  series.forEach((item, index) => {
    const x = left + index * 130;
    parts.push(
      `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${palette[index % palette.length]}"/>`,
      `<text x="${x + 16}" y="${height - 12}" font-size="11">${escapeHtml(item.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A line chart: x categories (noise levels), one line per series, values printed at the points. */
export function lineChartSvg(
  title: string,
  xLabels: readonly string[],
  series: readonly { name: string; values: readonly (number | undefined)[] }[],
  yLabel: string,
): string {
  const width = 560;
  const height = 320;
  const left = 56;
  const top = 40;
  const plotWidth = 360;
  const plotHeight = 220;
  const max = Math.max(
    1e-9,
    ...series.flatMap((item) => item.values.filter((value): value is number => value !== undefined)),
  );
  const { top: scaleMax, step } = axis(Math.min(max, 1));
  const x = (index: number) =>
    left + (xLabels.length <= 1 ? plotWidth / 2 : (plotWidth * index) / (xLabels.length - 1));
  const y = (value: number) => top + plotHeight - (plotHeight * Math.min(value, scaleMax)) / scaleMax;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`,
    `<text x="14" y="${top + plotHeight / 2}" font-size="11" transform="rotate(-90 14 ${top + plotHeight / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text>`,
  ];
  for (let tick = 0; tick <= Math.round(scaleMax / step); tick++) {
    const value = tick * step;
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#ddd"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${y(value).toFixed(1)}" dy="4" font-size="10" text-anchor="end">${value.toFixed(2)}</text>`,
    );
  }
  xLabels.forEach((label, index) => {
    parts.push(
      `<text x="${x(index)}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  });
  series.forEach((item, index) => {
    const color = palette[index % palette.length];
    const points = item.values
      .map((value, position) =>
        value === undefined ? undefined : `${x(position).toFixed(1)},${y(value).toFixed(1)}`,
      )
      .filter((point): point is string => point !== undefined);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    item.values.forEach((value, position) => {
      if (value === undefined) return;
      parts.push(
        `<circle cx="${x(position).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeHtml(`${item.name} at ${xLabels[position]}: ${value.toFixed(3)}`)}</title></circle>`,
      );
    });
    parts.push(
      `<rect x="${left + plotWidth + 20}" y="${top + index * 20}" width="12" height="12" fill="${color}"/>`,
      `<text x="${left + plotWidth + 36}" y="${top + index * 20 + 10}" font-size="11">${escapeHtml(item.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function markdownTableToHtml(markdown: string): string {
  // The Markdown report's own tables and headings, turned into HTML (no outside Markdown library).
  const html: string[] = [];
  let inTable = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim());
      if (cells.every((cell) => /^-+$/.test(cell))) continue;
      if (!inTable) {
        html.push(
          '<table><thead><tr>',
          ...cells.map((cell) => `<th>${escapeHtml(cell)}</th>`),
          '</tr></thead><tbody>',
        );
        inTable = true;
      } else {
        html.push('<tr>', ...cells.map((cell) => `<td>${escapeHtml(cell)}</td>`), '</tr>');
      }
      continue;
    }
    if (inTable) {
      html.push('</tbody></table>');
      inTable = false;
    }
    if (line.startsWith('## ')) html.push(`<h2>${escapeHtml(line.slice(3))}</h2>`);
    else if (line.startsWith('# ')) continue;
    else if (line.trim().length > 0) html.push(`<p>${escapeHtml(line)}</p>`);
  }
  if (inTable) html.push('</tbody></table>');
  return html.join('');
}

/** A self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): charts, then the tables. */
export function renderHtmlReport(
  results: readonly StoredResult[],
  options: { title?: string; generatedAt?: string } = {},
): string {
  const data = collectReportData(results);
  const charts: string[] = [];
  for (const rows of retrievalGroups(data.retrieval).values()) {
    const k = rows[0]!.k;
    const noises = unique(rows.map((row) => row.noise)).sort((a, b) => Number(a) - Number(b));
    const methods = unique(rows.map((row) => row.method));
    const title = retrievalTitle(rows);
    const focus = noises.includes('0.5') ? '0.5' : noises.at(-1)!;
    const at = (method: string, noise: string) =>
      rows.find((row) => row.method === method && row.noise === noise);
    charts.push(`<h2>${escapeHtml(title)}</h2>`);
    charts.push(
      `<figure>${barChartSvg(`Methods × metrics at noise ${focus}`, methods, [
        { name: `Recall@${k}`, values: methods.map((method) => at(method, focus)?.recall) },
        { name: `NDCG@${k}`, values: methods.map((method) => at(method, focus)?.ndcg) },
      ])}</figure>`,
    );
    if (noises.length > 1) {
      charts.push(
        `<figure>${lineChartSvg(
          `Recall@${k} by noise level`,
          noises.map((noise) => `noise ${noise}`),
          methods.map((method) => ({
            name: method,
            values: noises.map((noise) => at(method, noise)?.recall),
          })),
          `Recall@${k}`,
        )}</figure>`,
        `<figure>${lineChartSvg(
          `NDCG@${k} by noise level`,
          noises.map((noise) => `noise ${noise}`),
          methods.map((method) => ({ name: method, values: noises.map((noise) => at(method, noise)?.ndcg) })),
          `NDCG@${k}`,
        )}</figure>`,
      );
    }
  }
  if (data.qa.length > 0) {
    const labels = data.qa.map((row) => `${row.method} · ${row.model} · ${row.noise}`);
    charts.push('<h2>PersonaBench end-to-end QA</h2>');
    charts.push(
      `<figure>${barChartSvg('Word-set precision, recall and F1', labels, [
        { name: 'precision', values: data.qa.map((row) => row.precision) },
        { name: 'recall', values: data.qa.map((row) => row.recall) },
        { name: 'F1', values: data.qa.map((row) => row.f1) },
      ])}</figure>`,
    );
  }
  for (const [name, rows] of groupBy(
    data.lamp,
    (row) => `${row.task} ${row.split}${row.timeBased ? ' (time)' : ''}`,
  )) {
    const metrics = unique(rows.flatMap((row) => Object.keys(row.metrics)));
    const labels = rows.map((row) => `${row.method} · ${row.model}`);
    charts.push(`<h2>${escapeHtml(name)}</h2>`);
    charts.push(
      `<figure>${barChartSvg(
        'Methods × metrics',
        labels,
        metrics.map((metric) => ({ name: metric, values: rows.map((row) => row.metrics[metric]) })),
      )}</figure>`,
    );
  }
  const title = options.title ?? 'userplug evaluation results';
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
figure { margin: 1rem 0; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f4f4f4; }
td { font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Generated ${escapeHtml(generatedAt)} from ${results.length} result files. Baselines marked "not an LLM" are deterministic predictors for smoke runs.</p>
<section id="charts">${charts.join('\n')}</section>
<section id="tables"><h2 class="part">Tables</h2>${markdownTableToHtml(renderMarkdownReport(results))}</section>
</body>
</html>
`;
}
