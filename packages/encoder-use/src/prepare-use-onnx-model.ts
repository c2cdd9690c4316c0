import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { converterVersion, type UsePrecision } from './use-graph-version.js';
import {
  fingerprintUseModelFiles,
  readUseModelArtifacts,
  type UseModelArtifacts,
  useModelInstallHint,
} from './use-model-files.js';

// Plain Errors here; the encoder wraps them in EncoderError.

/** Where a converted USE-lite graph came from. */
export interface UseOnnxModelInfo {
  /** Where the graph is cached; undefined when the cache folder could not be written. */
  readonly path: string | undefined;
  /** True when the graph was read from the cache; false when it was converted now. */
  readonly fromCache: boolean;
  /** Milliseconds spent converting (0 when read from the cache). */
  readonly convertMilliseconds: number;
  /** Why a cached file was not used, when one existed but was damaged (it was rebuilt). */
  readonly rebuiltBecause: string | undefined;
}

/** The converted USE-lite graph, ready for an ONNX runtime. */
export interface PreparedUseOnnxModel extends UseOnnxModelInfo {
  /** The ONNX model bytes. */
  readonly bytes: Uint8Array;
}

/** Settings of {@link prepareUseOnnxModel}. */
export interface PrepareUseOnnxModelSettings {
  /** Folder holding model.json, its shards and vocab.json. */
  modelDirectory: string;
  /** Folder of converted graphs. */
  cacheDirectory: string;
  /** Which graph to build. */
  precision: UsePrecision;
}

/** `$USERPLUG_CACHE_DIR/encoder-use`, else `$XDG_CACHE_HOME/userplug/encoder-use`, else `~/.cache/userplug/encoder-use`. */
export function defaultUseCacheDirectory(): string {
  const root =
    process.env.USERPLUG_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'userplug');
  return join(root, 'encoder-use');
}

/** The cache file of a graph: named by the TF.js weights' hash, the converter version and the precision. */
export function useOnnxCachePath(
  cacheDirectory: string,
  weightsSha256: string,
  precision: UsePrecision,
): string {
  return join(
    cacheDirectory,
    `use-lite-${weightsSha256.slice(0, 16)}-c${converterVersion}-${precision}.onnx`,
  );
}

// The checksum only detects damage, so the fastest hardware-accelerated digest will do.
function checksum(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Reads a cached graph and checks it against its `.sha1` file; returns why it is unusable instead. */
async function readCached(path: string): Promise<{ bytes: Uint8Array } | { problem: string | undefined }> {
  let bytes: Uint8Array;
  let expected: string;
  try {
    bytes = await readFile(path);
  } catch {
    return { problem: undefined };
  }
  try {
    expected = (await readFile(`${path}.sha1`, 'utf8')).trim();
  } catch {
    // Another process may be between writing the graph and its checksum: converting again is safe.
    return { problem: `${path}.sha1 is missing` };
  }
  if (checksum(bytes) !== expected) {
    return { problem: `${path} does not match its checksum (damaged or partly written)` };
  }
  return { bytes };
}

/**
 * The SHA-256 of the TF.js files, remembered in the cache folder next to their sizes and modification times, so a
 * start with unchanged files reads none of the 28 MB of shards. Returns the files when it had to read them.
 */
async function weightsSha256(
  modelDirectory: string,
  cacheDirectory: string,
): Promise<{ sha256: string; artifacts?: UseModelArtifacts }> {
  const folderKey = createHash('sha1').update(modelDirectory).digest('hex').slice(0, 16);
  const memoPath = join(cacheDirectory, `weights-${folderKey}.json`);
  let fingerprint: string | undefined;
  try {
    fingerprint = await fingerprintUseModelFiles(modelDirectory);
    const memo = JSON.parse(await readFile(memoPath, 'utf8')) as { fingerprint?: string; sha256?: string };
    if (memo.fingerprint === fingerprint && typeof memo.sha256 === 'string') return { sha256: memo.sha256 };
  } catch {
    // No memo yet, or files to report on: the full read below says what is wrong.
  }
  const artifacts = await readUseModelArtifacts(modelDirectory);
  if (fingerprint !== undefined) {
    try {
      await mkdir(cacheDirectory, { recursive: true });
      await writeAtomically(memoPath, JSON.stringify({ fingerprint, sha256: artifacts.sha256 }));
    } catch {
      // A read-only cache only costs the hash on every start.
    }
  }
  return { sha256: artifacts.sha256, artifacts };
}

/** Writes `bytes` to `path` through a temporary file and a rename, so no reader ever sees half a file. */
async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The USE-lite ONNX graph for `precision`: read from the cache when a valid copy exists, else converted from the
 * TF.js weights and written to the cache (graph first, then its SHA-1 checksum, each atomically). Two processes
 * converting at once write identical bytes, so either rename wins. A damaged cache file is rebuilt. When the
 * cache folder cannot be written, the graph is converted in memory on every start.
 */
export async function prepareUseOnnxModel(
  settings: PrepareUseOnnxModelSettings,
): Promise<PreparedUseOnnxModel> {
  const identity = await weightsSha256(settings.modelDirectory, settings.cacheDirectory);
  const cachedPath = useOnnxCachePath(settings.cacheDirectory, identity.sha256, settings.precision);
  const cached = await readCached(cachedPath);
  if ('bytes' in cached) {
    return {
      bytes: cached.bytes,
      path: cachedPath,
      fromCache: true,
      convertMilliseconds: 0,
      rebuiltBecause: undefined,
    };
  }
  // Named by the files read now, in case they changed without changing size or time.
  const artifacts = identity.artifacts ?? (await readUseModelArtifacts(settings.modelDirectory));
  const path = useOnnxCachePath(settings.cacheDirectory, artifacts.sha256, settings.precision);
  const started = performance.now();
  let converted: Uint8Array;
  try {
    // Loaded only to convert: onnx-proto costs a cached start about 50 ms.
    const { convertUseGraph } = await import('./convert-use-graph.js');
    converted = convertUseGraph(artifacts, { precision: settings.precision }).bytes;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Cannot convert the USE-lite graph in ${settings.modelDirectory} (${artifacts.files.join(', ')}): ${reason} ` +
        `The files may be damaged. ${useModelInstallHint}`,
      { cause: error },
    );
  }
  const convertMilliseconds = performance.now() - started;
  let written: string | undefined = path;
  try {
    await mkdir(settings.cacheDirectory, { recursive: true });
    await writeAtomically(path, converted);
    await writeAtomically(`${path}.sha1`, `${checksum(converted)}\n`);
  } catch {
    written = undefined;
  }
  return {
    bytes: converted,
    path: written,
    fromCache: false,
    convertMilliseconds,
    rebuiltBecause: cached.problem,
  };
}
