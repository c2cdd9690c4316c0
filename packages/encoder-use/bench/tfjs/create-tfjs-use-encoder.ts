import { availableParallelism } from 'node:os';
import type { Encoder } from '@userplug/core';
import {
  createTokenBatchEncoder,
  positiveInteger,
  type TokenBatchBackend,
} from '../../src/create-token-batch-encoder.js';
import { useEncoderId } from '../../src/create-use-encoder.js';

/** Settings of {@link createTfjsUseEncoder}. */
export interface TfjsUseEncoderSettings {
  /** Worker threads, each with its own wasm backend and model; `1` runs on the calling thread. Default: 2 on 2+ cores. */
  threads?: number;
  /** Texts per model call. Default `32`. */
  batchSize?: number;
  /** Folder holding model.json, its shards and vocab.json. Default: the installed weights package. */
  modelDirectory?: string;
}

/**
 * USE-lite on TF.js WebAssembly, as the encoder ran before the ONNX graph (same tokenizer, batching and id): the
 * reference of the equivalence tests and the old side of the comparison bench. TF.js is a devDependency only.
 */
export function createTfjsUseEncoder(settings: TfjsUseEncoderSettings = {}): Encoder {
  const threads = positiveInteger('threads', settings.threads ?? (availableParallelism() >= 2 ? 2 : 1));
  return createTokenBatchEncoder<TokenBatchBackend>({
    id: useEncoderId,
    batchSize: positiveInteger('batchSize', settings.batchSize ?? 32),
    modelDirectory: settings.modelDirectory,
    reloadAfterFailure: threads > 1,
    async loadBackend(modelDirectory) {
      if (threads > 1) {
        const { createTfjsWorkerPool } = await import('./create-tfjs-worker-pool.js');
        const pool = await createTfjsWorkerPool({ threads, modelDirectory });
        return { embed: pool.embed, dispose: pool.close };
      }
      const { createTfjsUseRunner } = await import('./create-tfjs-use-runner.js');
      const runner = await createTfjsUseRunner(modelDirectory);
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
    },
  });
}
