import { join, resolve } from 'node:path';
import { createHashingEncoder, type Encoder, loadDefaultEncoder } from '@userplug/core';
import { createDiskCachedEncoder, type DiskCacheStatistics } from './create-disk-cached-encoder.js';

/** Options of {@link loadEvalEncoder}. */
export interface EvalEncoderOptions {
  /** `use` (default): the embedded default encoder. `hashing`: core's lexical hashing encoder (no model). */
  encoder?: 'use' | 'hashing';
  /**
   * Folder of the on-disk embedding cache, or false for none. Default `USERPLUG_EVAL_CACHE`, else
   * `evals/.cache/embeddings` under the working directory.
   */
  cacheDirectory?: string | false;
}

/** The encoder an evaluation run uses, with its disk cache; dispose it when done. */
export async function loadEvalEncoder(
  options: EvalEncoderOptions = {},
): Promise<Encoder & { statistics?: () => DiskCacheStatistics }> {
  const base = options.encoder === 'hashing' ? createHashingEncoder() : await loadDefaultEncoder();
  const directory =
    options.cacheDirectory === undefined
      ? resolve(process.env.USERPLUG_EVAL_CACHE ?? join('evals', '.cache', 'embeddings'))
      : options.cacheDirectory;
  // The hashing encoder is instant: caching it would only cost disk.
  if (directory === false || options.encoder === 'hashing') return base;
  return createDiskCachedEncoder(base, { directory });
}
