import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TokenBatch } from '../../src/create-use-onnx-runner.js';
import type { WorkerReply, WorkerRequest, WorkerStartData } from './tfjs-worker-messages.js';

/** Worker threads that each hold a USE-lite model; batches go to whichever worker is free. */
export interface TfjsWorkerPool {
  /** Embeds a batch on the next free worker; same contract as `UseModelRunner.embed`. */
  embed(batch: TokenBatch): Promise<Float32Array>;
  /** Stops every worker; pending batches are rejected. */
  close(): Promise<void>;
}

interface Job {
  readonly batch: TokenBatch;
  readonly resolve: (vectors: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  job: Job | undefined;
  jobId: number;
}

/** A bootstrap that registers tsx inside the worker, then imports the TypeScript worker entry. */
function workerBootstrap(): string {
  const source = new URL('./tfjs-use-worker.ts', import.meta.url);
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } } | string>;
  };
  const target = manifest.exports?.['./esm/api'];
  const relativePath = typeof target === 'object' ? target.import?.default : undefined;
  const tsxApi = pathToFileURL(join(dirname(manifestPath), relativePath ?? 'dist/esm/api/index.mjs')).href;
  // Node 20 applies neither the parent's loader hooks nor execArgv --import to a worker's entry module.
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
}

const flagsWithValue = new Set([
  '--require',
  '-r',
  '--import',
  '--conditions',
  '-C',
  '--loader',
  '--experimental-loader',
]);
const flagsAlone = new Set([
  '--enable-source-maps',
  '--no-warnings',
  '--no-deprecation',
  '--preserve-symlinks',
]);

/**
 * The parent's flags that change how modules resolve or load (`--import`, `--conditions`, `--require`, …);
 * flags such as `--input-type` or `--eval` make a worker fail to start, so they are dropped.
 */
export function workerExecArgv(parentArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < parentArgv.length; index += 1) {
    const argument = parentArgv[index]!;
    const name = argument.split('=', 1)[0]!;
    if (flagsAlone.has(argument)) kept.push(argument);
    else if (flagsWithValue.has(name) && argument.includes('=')) kept.push(argument);
    else if (flagsWithValue.has(name) && index + 1 < parentArgv.length) {
      kept.push(argument, parentArgv[index + 1]!);
      index += 1;
    }
  }
  return kept;
}

/** Starts `threads` workers and resolves once every one has loaded its model. */
export async function createTfjsWorkerPool(settings: {
  threads: number;
  modelDirectory: string;
}): Promise<TfjsWorkerPool> {
  const bootstrap = workerBootstrap();
  const workerData: WorkerStartData = { modelDirectory: settings.modelDirectory };
  const queue: Job[] = [];
  let nextJobId = 0;
  let failure: Error | undefined;
  let closing = false;

  const poolWorkers: PoolWorker[] = Array.from({ length: settings.threads }, () => ({
    worker: new Worker(bootstrap, {
      workerData,
      eval: true,
      execArgv: workerExecArgv(process.execArgv),
    }),
    job: undefined,
    jobId: -1,
  }));

  function failAll(error: Error): void {
    failure ??= error;
    for (const poolWorker of poolWorkers) {
      poolWorker.job?.reject(failure);
      poolWorker.job = undefined;
    }
    for (const job of queue.splice(0)) job.reject(failure);
  }

  function dispatch(): void {
    for (const poolWorker of poolWorkers) {
      if (poolWorker.job !== undefined) continue;
      const job = queue.shift();
      if (job === undefined) {
        // Idle workers must not keep the process alive when the caller forgets dispose().
        poolWorker.worker.unref();
        continue;
      }
      poolWorker.job = job;
      poolWorker.jobId = nextJobId;
      nextJobId += 1;
      poolWorker.worker.ref();
      const request: WorkerRequest = {
        jobId: poolWorker.jobId,
        tokenIds: job.batch.tokenIds,
        rowStarts: job.batch.rowStarts,
      };
      poolWorker.worker.postMessage(request);
    }
  }

  const ready = poolWorkers.map(
    (poolWorker) =>
      new Promise<void>((resolve, reject) => {
        const { worker } = poolWorker;
        worker.on('message', (message: WorkerReply) => {
          if (message.kind === 'ready') return resolve();
          if (message.kind === 'failed') return reject(new Error(message.message));
          const job = poolWorker.job;
          if (job === undefined || message.jobId !== poolWorker.jobId) return;
          poolWorker.job = undefined;
          if (message.kind === 'embedded') job.resolve(message.vectors);
          else job.reject(new Error(message.message));
          dispatch();
        });
        worker.on('error', (error) => {
          reject(error);
          failAll(new Error(`A USE-lite worker thread crashed: ${error.message}`, { cause: error }));
        });
        worker.on('exit', (code) => {
          const error = new Error(`A USE-lite worker thread exited with code ${code}.`);
          reject(error);
          if (!closing) failAll(error);
        });
      }),
  );

  const close = async (): Promise<void> => {
    closing = true;
    failAll(new Error('The USE-lite encoder was disposed.'));
    await Promise.all(poolWorkers.map((poolWorker) => poolWorker.worker.terminate()));
  };

  try {
    await Promise.all(ready);
  } catch (error) {
    await close();
    throw error;
  }
  dispatch();

  return {
    embed(batch) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<Float32Array>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        dispatch();
      });
    },
    close,
  };
}
