import { type Encoder, EncoderError, InvalidArgumentError } from '@userplug/core';
import type { TokenBatch } from './create-use-onnx-runner.js';
import { createUseTokenizer } from './create-use-tokenizer.js';
import { resolveUseModelDirectory, useDimension, useMaxTokens } from './use-model-files.js';

/** What runs the model: one batch of token ids in, rows × 512 unit floats out. */
export interface TokenBatchBackend {
  embed(batch: TokenBatch): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

/** Settings of {@link createTokenBatchEncoder}. */
export interface TokenBatchEncoderSettings<Backend extends TokenBatchBackend> {
  /** The encoder id stored next to every vector. */
  id: string;
  /** Texts per model call. */
  batchSize: number;
  /** Folder holding vocab.json (and the model files the backend reads); undefined for the installed package. */
  modelDirectory: string | undefined;
  /** Loads the model from the resolved folder; called on the first encode, and again after a failed load. */
  loadBackend(modelDirectory: string): Promise<Backend>;
  /** Whether a failed batch leaves the backend unusable, so the next call loads a fresh one. */
  reloadAfterFailure?: boolean;
}

/** A USE-lite encoder over some backend, with the backend it loaded (undefined until the first encode). */
export interface TokenBatchEncoder<Backend extends TokenBatchBackend> extends Encoder {
  /** USE-lite reads the first 128 tokens of a text. */
  readonly maxInputTokens: number;
  /** The loaded backend; undefined before the first encode and after dispose. */
  readonly backend: Backend | undefined;
}

/**
 * Validates texts, tokenizes them (USE-lite reads at most 128 tokens), sorts them by token count so each batch
 * holds texts of similar length, runs the batches on the backend and returns the vectors in input order. An empty
 * or whitespace-only text is embedded as a lone word boundary token `▁`.
 */
export function createTokenBatchEncoder<Backend extends TokenBatchBackend>(
  settings: TokenBatchEncoderSettings<Backend>,
): TokenBatchEncoder<Backend> {
  const { id, batchSize } = settings;
  let loading: Promise<{ backend: Backend; emptyTextTokens: readonly number[] }> | undefined;
  let loaded: Backend | undefined;
  let disposed = false;
  const tokenizer = () =>
    createUseTokenizer({ modelDirectory: resolveUseModelDirectory(settings.modelDirectory) });

  async function load() {
    const modelDirectory = resolveUseModelDirectory(settings.modelDirectory);
    const boundaryId = tokenizer().idOf('\u2581');
    if (boundaryId === undefined) throw new Error(`vocab.json in ${modelDirectory} has no "\u2581" piece.`);
    const backend = await settings.loadBackend(modelDirectory);
    loaded = backend;
    return { backend, emptyTextTokens: [boundaryId] };
  }

  function current() {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw asEncoderError(id, 'Cannot load USE-lite', error);
    });
    return loading;
  }

  function assertUsable(): void {
    if (!disposed) return;
    const message = 'This USE-lite encoder was disposed; create a new one with createUseEncoder().';
    throw new EncoderError(message, { encoderId: id });
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
    const pending = current();
    const { backend, emptyTextTokens } = await pending;
    assertUsable();

    const words = tokenizer();
    const tokenRows = texts.map((text) => {
      const tokens = words.tokenize(text, useMaxTokens);
      return tokens.length > 0 ? tokens : emptyTextTokens;
    });
    // Longest first: a batch costs about its size times its longest text.
    const order = tokenRows
      .map((_, index) => index)
      .sort((a, b) => tokenRows[b]!.length - tokenRows[a]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    const batches: Promise<void>[] = [];
    for (let start = 0; start < order.length; start += batchSize) {
      const members = order.slice(start, start + batchSize);
      const batch = toTokenBatch(members.map((index) => tokenRows[index]!));
      batches.push(
        backend.embed(batch).then((rows) => {
          members.forEach((index, row) => {
            vectors[index] = rows.slice(row * useDimension, (row + 1) * useDimension);
          });
        }),
      );
    }
    try {
      await Promise.all(batches);
    } catch (error) {
      if (settings.reloadAfterFailure && loading === pending) {
        loading = undefined;
        loaded = undefined;
        await backend.dispose();
      }
      assertUsable();
      throw asEncoderError(id, 'USE-lite failed to embed', error);
    }
    return vectors;
  }

  return {
    id,
    dim: useDimension,
    maxInputTokens: useMaxTokens,
    get backend() {
      return loaded;
    },
    encode,
    async dispose() {
      disposed = true;
      const pending = loading;
      loading = undefined;
      loaded = undefined;
      if (pending === undefined) return;
      try {
        await (await pending).backend.dispose();
      } catch {
        // A load that failed has nothing to free.
      }
    },
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

function asEncoderError(encoderId: string, context: string, error: unknown): EncoderError {
  if (EncoderError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EncoderError(`${context}: ${message}`, { encoderId }, { cause: error });
}

/** Checks that a count setting is a positive integer. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}
