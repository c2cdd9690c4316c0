import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { FileFormatError } from '@userplug/core';
import { DownloadError } from './download-error.js';
import { type LampTaskNumber, lampTasks } from './lamp-tasks.js';
import { type LampSplit, lampRemoteFolder, parseLampOutputs, parseLampQuestions } from './load-lamp.js';
import { createProgressBar, type ProgressStream } from './progress-bar.js';

/** The official host of the LaMP files. */
export const lampOfficialBaseUrl = 'https://ciir.cs.umass.edu/downloads/LaMP/';

/** Options of {@link downloadLamp}. */
export interface DownloadLampOptions {
  task: LampTaskNumber;
  /** Splits to fetch. Default `['dev']`. */
  splits?: readonly LampSplit[];
  /** The time-based split. Default false (user-based). */
  timeBased?: boolean;
  /** Folder the files go to, in the host's layout (`LaMP_2/new/dev/dev_questions.json`, `time/LaMP_3/…`). */
  directory: string;
  /** Base URL of the files. Default `USERPLUG_LAMP_BASE_URL`, else the official host. */
  baseUrl?: string;
  /** Expected SHA-256 (hex) by file name (`dev_questions.json`) or by path under `directory`. */
  sha256?: Readonly<Record<string, string>>;
  /** Fetch again even when a verified file is present. Default false. */
  force?: boolean;
  /** Attempts per file on network errors and 5xx answers, each resuming where the last stopped. Default 3. */
  attempts?: number;
  /** Progress bars go here (a terminal redraws one line per file). */
  progress?: ProgressStream;
  /** The fetch function. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** One file of a download. */
export interface DownloadedFile {
  url: string;
  path: string;
  bytes: number;
  sha256: string;
  /** `downloaded` (whole), `resumed` (continued a partial file) or `present` (already there and verified). */
  status: 'downloaded' | 'resumed' | 'present';
}

interface ManifestEntry {
  url: string;
  bytes: number;
  sha256: string;
  downloadedAt: string;
}

const manifestName = 'lamp-manifest.json';

function readManifest(directory: string): Record<string, ManifestEntry> {
  const path = join(directory, manifestName);
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as { files?: Record<string, ManifestEntry> };
    return value.files ?? {};
  } catch {
    return {};
  }
}

function writeManifest(directory: string, files: Record<string, ManifestEntry>): void {
  writeFileSync(join(directory, manifestName), `${JSON.stringify({ files }, null, 2)}\n`);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function checkJson(path: string, kind: 'questions' | 'outputs', task: LampTaskNumber): void {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FileFormatError(
      path,
      `${path} is not valid JSON: the download is damaged. Run the download again.`,
      {
        cause: error,
      },
    );
  }
  if (kind === 'questions') parseLampQuestions(path, value);
  else {
    const outputs = parseLampOutputs(path, value);
    if (outputs.task.replace('-', '_') !== lampTasks[task].name) {
      throw new FileFormatError(path, `${path} holds task "${outputs.task}", not ${lampTasks[task].name}.`);
    }
  }
}

function totalFrom(response: Response, offset: number): number | undefined {
  const range = response.headers.get('content-range');
  const rangeTotal = range ? /\/(\d+)\s*$/.exec(range)?.[1] : undefined;
  if (rangeTotal !== undefined) return Number(rangeTotal);
  const length = response.headers.get('content-length');
  return length === null ? undefined : offset + Number(length);
}

/** Fetches one URL into `path`, continuing `path.part` with an HTTP Range request when it exists. */
async function fetchFile(
  url: string,
  path: string,
  options: DownloadLampOptions,
  label: string,
): Promise<{ bytes: number; resumed: boolean }> {
  const fetchFunction = options.fetch ?? fetch;
  const partial = `${path}.part`;
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const offset = existsSync(partial) ? statSync(partial).size : 0;
    try {
      let response: Response;
      try {
        response = await fetchFunction(url, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
      } catch (error) {
        throw new DownloadError(
          `Cannot reach ${url}: ${(error as Error).message}.`,
          { url, retryable: true },
          { cause: error },
        );
      }
      if (response.status === 416 && offset > 0) {
        // The partial file already holds everything the server has.
        const total = totalFrom(response, 0);
        await response.body?.cancel();
        if (total === offset) {
          renameSync(partial, path);
          return { bytes: offset, resumed: true };
        }
        rmSync(partial, { force: true });
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        const hint =
          response.status === 404
            ? ' The file is not there: check --task, --split and --time-based (LaMP-6 is not public; test splits have no outputs).'
            : '';
        throw new DownloadError(`${url} answered HTTP ${response.status}.${hint}`, {
          url,
          status: response.status,
          retryable: response.status >= 500 || response.status === 429,
        });
      }
      const resuming = response.status === 206 && offset > 0;
      const start = resuming ? offset : 0;
      if (resuming) {
        const range = response.headers.get('content-range');
        if (range && !range.startsWith(`bytes ${offset}-`)) {
          await response.body?.cancel();
          throw new DownloadError(`${url} answered range "${range}" for bytes=${offset}-.`, {
            url,
            retryable: true,
          });
        }
      }
      const total = totalFrom(response, start);
      mkdirSync(dirname(path), { recursive: true });
      const out = createWriteStream(partial, { flags: resuming ? 'a' : 'w' });
      const bar = options.progress ? createProgressBar(options.progress, label) : undefined;
      let received = start;
      try {
        if (response.body) {
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
            received += chunk.length;
            if (!out.write(chunk))
              await new Promise<void>((resolveDrain) => out.once('drain', () => resolveDrain()));
            bar?.update(received, total);
          }
        }
      } catch (error) {
        out.end();
        await finished(out).catch(() => undefined);
        throw new DownloadError(
          `The connection to ${url} broke after ${received} bytes.`,
          { url, retryable: true },
          { cause: error },
        );
      }
      out.end();
      await finished(out);
      if (total !== undefined && received !== total) {
        throw new DownloadError(`${url} sent ${received} of ${total} bytes.`, { url, retryable: true });
      }
      bar?.finish(received, total, resuming ? `(resumed at ${(start / 1_048_576).toFixed(1)} MB)` : '');
      renameSync(partial, path);
      return { bytes: received, resumed: resuming };
    } catch (error) {
      if (!DownloadError.isInstance(error) || !error.retryable || attempt >= attempts) throw error;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 100 * 2 ** attempt));
    }
  }
}

/**
 * Downloads a LaMP task's files (`{split}_questions.json` and, outside test, `{split}_outputs.json`) with a
 * progress bar and resume (HTTP Range on a `.part` file), then checks each: the size the server announced,
 * valid JSON in the LaMP shape, and the SHA-256 when one is given. Verified files are recorded in
 * `lamp-manifest.json`, and a later call skips them.
 */
export async function downloadLamp(options: DownloadLampOptions): Promise<DownloadedFile[]> {
  const directory = resolve(options.directory);
  const baseUrl = (options.baseUrl ?? process.env.USERPLUG_LAMP_BASE_URL ?? lampOfficialBaseUrl).replace(
    /\/?$/,
    '/',
  );
  const splits = options.splits ?? ['dev'];
  const timeBased = options.timeBased ?? false;
  mkdirSync(directory, { recursive: true });
  const manifest = readManifest(directory);
  const results: DownloadedFile[] = [];
  for (const split of splits) {
    const folder = lampRemoteFolder(options.task, split, timeBased);
    const kinds: ('questions' | 'outputs')[] = split === 'test' ? ['questions'] : ['questions', 'outputs'];
    for (const kind of kinds) {
      const fileName = `${split}_${kind}.json`;
      const relativePath = `${folder}/${fileName}`;
      const url = new URL(relativePath, baseUrl).toString();
      const path = join(directory, relativePath);
      const expected = options.sha256?.[relativePath] ?? options.sha256?.[fileName];
      const known = manifest[relativePath];
      if (!options.force && existsSync(path) && known && known.bytes === statSync(path).size) {
        const sha256 = await sha256Of(path);
        if (sha256 === known.sha256 && (expected === undefined || expected.toLowerCase() === sha256)) {
          options.progress?.write(
            `${relative(process.cwd(), path) || path}  present, verified (${sha256.slice(0, 12)}…)\n`,
          );
          results.push({ url, path, bytes: known.bytes, sha256, status: 'present' });
          continue;
        }
      }
      if (options.force) rmSync(`${path}.part`, { force: true });
      const fetched = await fetchFile(url, path, options, relativePath);
      try {
        checkJson(path, kind, options.task);
      } catch (error) {
        rmSync(path, { force: true });
        throw error;
      }
      const sha256 = await sha256Of(path);
      if (expected !== undefined && expected.toLowerCase() !== sha256) {
        rmSync(path, { force: true });
        throw new DownloadError(
          `${url} has SHA-256 ${sha256}, expected ${expected.toLowerCase()}: the file was removed. Check the checksum, or the base URL.`,
          { url },
        );
      }
      manifest[relativePath] = { url, bytes: fetched.bytes, sha256, downloadedAt: new Date().toISOString() };
      writeManifest(directory, manifest);
      results.push({
        url,
        path,
        bytes: fetched.bytes,
        sha256,
        status: fetched.resumed ? 'resumed' : 'downloaded',
      });
    }
  }
  return results;
}
