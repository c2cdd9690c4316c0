import { parentPort, workerData } from 'node:worker_threads';
import type { TokenBatch } from '../../src/create-use-onnx-runner.js';
import { createTfjsUseRunner, type TfjsUseRunner } from './create-tfjs-use-runner.js';
import type { WorkerReply, WorkerRequest, WorkerStartData } from './tfjs-worker-messages.js';

// Entry of one TF.js pool worker: its own wasm backend and model, embedding one batch at a time.

const port = parentPort;
if (port === null) throw new Error('tfjs-use-worker must run inside a worker thread.');

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let runner: TfjsUseRunner | undefined;

try {
  runner = await createTfjsUseRunner((workerData as WorkerStartData).modelDirectory);
  reply({ kind: 'ready' });
} catch (error) {
  reply({ kind: 'failed', message: messageOf(error) });
}

port.on('message', async (request: WorkerRequest) => {
  if (runner === undefined) return;
  try {
    const batch: TokenBatch = { tokenIds: request.tokenIds, rowStarts: request.rowStarts };
    const vectors = await runner.embed(batch);
    reply({ kind: 'embedded', jobId: request.jobId, vectors }, [vectors.buffer as ArrayBuffer]);
  } catch (error) {
    reply({ kind: 'embed-failed', jobId: request.jobId, message: messageOf(error) });
  }
});
