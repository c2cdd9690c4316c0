import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The fields every stored result has; the report reads these. */
export interface StoredResultBase {
  benchmark: string;
  task: string;
  createdAt: string;
}

/** A result read back from a results folder, with its file name. */
export interface StoredResult {
  file: string;
  result: StoredResultBase & Record<string, unknown>;
}

/** The results folder: `USERPLUG_EVAL_RESULTS`, else `evals/results` under the working directory. */
export function defaultResultsDirectory(): string {
  return resolve(process.env.USERPLUG_EVAL_RESULTS ?? join('evals', 'results'));
}

function part(value: unknown): string {
  return String(value)
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A stable file name per benchmark, task and setting (method, community, noise, K, model, …). */
export function resultFileName(result: StoredResultBase): string {
  const r = result as StoredResultBase & Record<string, unknown>;
  if (r.benchmark === 'personabench' && r.task === 'retrieval') {
    const variant = `${r.sessionText === 'official-json' ? '-official-json' : ''}${r.view === 'turns' ? '-turns' : ''}`;
    return `personabench-${part(r.community)}-noise-${part(r.noise)}-k${part(r.k)}-${part(r.method)}${variant}.json`;
  }
  if (r.benchmark === 'personabench' && r.task === 'qa') {
    return `personabench-qa-${part(r.community)}-noise-${part(r.noise)}-k${part(r.k)}-${part(r.method)}-${part(r.model)}.json`;
  }
  if (r.benchmark === 'lamp') {
    const split = `${part(r.split)}${r.timeBased ? '-time' : ''}`;
    return `lamp-${part(r.task)}-${split}-${part(r.method)}-k${part(r.k)}-${part(r.model ?? 'none')}.json`;
  }
  return `${part(r.benchmark)}-${part(r.task)}-${part(r.createdAt)}.json`;
}

/** Writes a result as pretty JSON under its stable name (replacing the previous run's); returns the path. */
export function writeResult(result: StoredResultBase, directory = defaultResultsDirectory()): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, resultFileName(result));
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(temporary, path);
  return path;
}

/** Reads every `*.json` result of a folder (files that are not results are skipped). */
export function readResults(directory = defaultResultsDirectory()): StoredResult[] {
  if (!existsSync(directory)) return [];
  const results: StoredResult[] = [];
  for (const file of readdirSync(directory).sort()) {
    if (!file.endsWith('.json')) continue;
    try {
      const value = JSON.parse(readFileSync(join(directory, file), 'utf8')) as unknown;
      if (typeof value === 'object' && value !== null && 'benchmark' in value && 'task' in value) {
        results.push({ file, result: value as StoredResult['result'] });
      }
    } catch {
      // Not a result file (or half written by another tool): the report skips it.
    }
  }
  return results;
}
