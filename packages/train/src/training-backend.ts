import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingGradients } from './register-gradients.js';

/** TF.js backend that runs training: `cpu` (plain JavaScript) or `wasm` (WebAssembly, faster on large histories). */
export type TrainingBackend = 'cpu' | 'wasm';

const loaded = new Map<TrainingBackend, Promise<void>>();

function loadBackend(name: TrainingBackend): Promise<void> {
  let loading = loaded.get(name);
  if (!loading) {
    loading = (async () => {
      if (name === 'cpu') {
        await import('@tensorflow/tfjs-backend-cpu');
        return;
      }
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(
        `${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`,
      );
    })();
    loaded.set(name, loading);
    loading.catch(() => loaded.delete(name));
  }
  return loading;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` on a TF.js backend and restores the previous one afterwards (the default encoder may
 * use TF.js on this thread too). Runs one at a time: the backend is process-wide.
 */
export function withTrainingBackend<T>(name: TrainingBackend, work: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    // The cpu backend's "install tfjs-node" banner would interleave with the progress bar.
    tf.env().set('PROD', true);
    registerTrainingGradients();
    await loadBackend(name);
    const previous = tf.engine().backendName as string | undefined;
    if (previous !== name && !(await tf.setBackend(name))) {
      throw new Error(`The TF.js ${name} backend failed to start.`);
    }
    try {
      return await work();
    } finally {
      if (previous && previous !== name) await tf.setBackend(previous);
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
