import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '@userplug/cli-kit';
import { renderHtmlReport, renderMarkdownReport } from './render-report.js';
import { defaultResultsDirectory, readResults } from './results-store.js';

export const reportUsage = `Usage: userplug-eval report [--results DIR] [--out DIR] [--stdout]

Reads every result JSON in the results folder and writes report.md (tables) and report.html (a self-contained
page: inline SVG charts of methods × metrics and noise curves, then the tables).

Options:
  --results DIR   Result JSON folder. Default: USERPLUG_EVAL_RESULTS or evals/results.
  --out DIR       Where report.md and report.html go. Default: the results folder.
  --stdout        Print the Markdown instead of writing files.
`;

/** `userplug-eval report`. */
export async function reportCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      results: { type: 'string' },
      out: { type: 'string' },
      stdout: { type: 'boolean', default: false },
    },
  });
  const resultsDirectory = values.results ?? defaultResultsDirectory();
  const results = readResults(resultsDirectory);
  const markdown = renderMarkdownReport(results);
  if (values.stdout) {
    io.stdout.write(markdown);
    return;
  }
  const out = values.out ?? resultsDirectory;
  mkdirSync(out, { recursive: true });
  const markdownPath = join(out, 'report.md');
  const htmlPath = join(out, 'report.html');
  writeFileSync(markdownPath, markdown);
  writeFileSync(htmlPath, renderHtmlReport(results));
  io.stdout.write(
    `${results.length} results → ${relative(process.cwd(), markdownPath) || markdownPath}, ${relative(process.cwd(), htmlPath) || htmlPath}\n`,
  );
}
