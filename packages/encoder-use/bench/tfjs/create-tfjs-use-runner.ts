import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../../src/create-use-onnx-runner.js';
import { normalizeRows } from '../../src/normalize-rows.js';
import { readUseModelArtifacts, useDimension } from '../../src/use-model-files.js';

// The TF.js WebAssembly runner of USE-lite that the encoder used before the ONNX graph: the reference of the
// equivalence tests and the "old" side of the comparison bench. Also loaded inside worker threads, so it reports
// plain Errors and never imports @userplug/core.

/** The USE-lite graph model loaded on the wasm backend of the current thread. */
export interface TfjsUseRunner {
  /** Embeds a batch; returns rows × 512 floats, each row of unit length. Every row needs at least one token. */
  embed(batch: TokenBatch): Promise<Float32Array>;
  /** `synchronous` when the graph runs with layout nodes fed from JavaScript (the fast path), else `asynchronous`. */
  readonly execution: 'synchronous' | 'asynchronous';
  /** Frees the model's tensors. */
  dispose(): void;
}

/** Facts about the wasm backend of this thread, for diagnostics. */
export interface WasmBackendInfo {
  /** Whether the SIMD build of the backend runs. */
  readonly simd: boolean;
  /** Whether the multi-threaded build of the backend runs (never in Node.js). */
  readonly multithreaded: boolean;
}

let backendReady: Promise<WasmBackendInfo> | undefined;

/** Selects tfjs's wasm backend for this thread, loading its .wasm files from the installed package (no network). */
export function prepareWasmBackend(): Promise<WasmBackendInfo> {
  backendReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmDirectory = join(
      dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
      'dist',
    );
    setWasmPaths(`${wasmDirectory}/`);
    // Skips per-op debug checks that cost more than the small ops of a one-text query.
    tf.enableProdMode();
    if (!(await tf.setBackend('wasm'))) {
      throw new Error(`The TF.js wasm backend failed to start from ${wasmDirectory}.`);
    }
    await tf.ready();
    return {
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      multithreaded: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  })();
  backendReady.catch(() => {
    backendReady = undefined;
  });
  return backendReady;
}

const scope = 'module_apply_default/Encoder_en/KonaTransformer/';

/**
 * Graph nodes whose values depend only on the token layout. Fed from JavaScript, they let the graph
 * run with the synchronous `execute` (no dynamic `Where`/`SparseToDense` left), about twice as fast
 * as `executeAsync` for a one-text query, with identical output.
 */
const layoutFeeds = {
  denseTokens: `${scope}Encode/SparseToDense`,
  tokenPositions: `${scope}Encode/TransformerStack/Layer_1/TransformerLayer/FFN/StoreMask/ToInt32`,
  positionInText: `${scope}Encode/TransformerStack/Layer_0/AddTimingSignal/strided_slice_2`,
  tokenValues: `${scope}ClipToMaxLength/GatherV2_1`,
} as const;

interface BatchLayout {
  rowCount: number;
  longest: number;
  positions: Int32Array;
}

function layoutOf(batch: TokenBatch): BatchLayout {
  const rowCount = batch.rowStarts.length - 1;
  const positions = new Int32Array(batch.tokenIds.length * 2);
  let longest = 0;
  for (let row = 0; row < rowCount; row += 1) {
    const start = batch.rowStarts[row]!;
    const end = batch.rowStarts[row + 1]!;
    if (end <= start) throw new RangeError(`Row ${row} of the batch has no tokens.`);
    longest = Math.max(longest, end - start);
    for (let token = start; token < end; token += 1) {
      positions[token * 2] = row;
      positions[token * 2 + 1] = token - start;
    }
  }
  return { rowCount, longest, positions };
}

function runSync(model: GraphModel, batch: TokenBatch, layout: BatchLayout, output: string): tf.Tensor {
  const tokenCount = batch.tokenIds.length;
  // Padding is -1, the graph's SparseToDense default value.
  const dense = new Int32Array(layout.rowCount * layout.longest).fill(-1);
  const positionInText = new Int32Array(tokenCount);
  for (let token = 0; token < tokenCount; token += 1) {
    const row = layout.positions[token * 2]!;
    const column = layout.positions[token * 2 + 1]!;
    dense[row * layout.longest + column] = batch.tokenIds[token]!;
    positionInText[token] = column;
  }
  const feeds: Record<string, tf.Tensor> = {
    [layoutFeeds.denseTokens]: tf.tensor2d(dense, [layout.rowCount, layout.longest], 'int32'),
    [layoutFeeds.tokenPositions]: tf.tensor2d(layout.positions, [tokenCount, 2], 'int32'),
    [layoutFeeds.positionInText]: tf.tensor1d(positionInText, 'int32'),
    [layoutFeeds.tokenValues]: tf.tensor1d(batch.tokenIds, 'int32'),
  };
  try {
    return model.execute(feeds, output) as tf.Tensor;
  } finally {
    for (const tensor of Object.values(feeds)) tensor.dispose();
  }
}

/** Loads USE-lite from `modelDirectory` on the wasm backend. */
export async function createTfjsUseRunner(modelDirectory: string): Promise<TfjsUseRunner> {
  await prepareWasmBackend();
  const artifacts = await readUseModelArtifacts(modelDirectory);
  let model: GraphModel | undefined = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: artifacts.weightData,
    }),
  );
  const output = model.outputs[0]!.name;
  const synchronous = await synchronousPathMatches(model, output);

  return {
    execution: synchronous ? 'synchronous' : 'asynchronous',
    async embed(batch) {
      if (model === undefined) throw new Error('The USE-lite model was disposed.');
      const layout = layoutOf(batch);
      const result = synchronous
        ? runSync(model, batch, layout, output)
        : await runAsyncGraph(model, batch, layout);
      try {
        if (result.shape[0] !== layout.rowCount || result.shape[1] !== useDimension) {
          throw new Error(
            `USE-lite returned shape [${result.shape.join(', ')}] for ${layout.rowCount} texts.`,
          );
        }
        return normalizeRows(new Float32Array(result.dataSync() as Float32Array));
      } finally {
        result.dispose();
      }
    },
    dispose() {
      model?.dispose();
      model = undefined;
    },
  };
}

async function runAsyncGraph(model: GraphModel, batch: TokenBatch, layout: BatchLayout): Promise<tf.Tensor> {
  const indices = tf.tensor2d(layout.positions, [batch.tokenIds.length, 2], 'int32');
  const values = tf.tensor1d(batch.tokenIds, 'int32');
  try {
    // The graph clips to 128 tokens and masks padding with dynamic Where ops: executeAsync runs them.
    return (await model.executeAsync({ indices, values })) as tf.Tensor;
  } finally {
    indices.dispose();
    values.dispose();
  }
}

// Uses the fed, synchronous path only when this graph has the expected nodes and gives the same vectors.
async function synchronousPathMatches(model: GraphModel, output: string): Promise<boolean> {
  const probe: TokenBatch = {
    tokenIds: Int32Array.from([17, 230, 901, 45, 7, 3000, 12]),
    rowStarts: Int32Array.from([0, 5, 7]),
  };
  const layout = layoutOf(probe);
  let expected: tf.Tensor | undefined;
  let actual: tf.Tensor | undefined;
  try {
    expected = await runAsyncGraph(model, probe, layout);
    actual = runSync(model, probe, layout, output);
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(expected!, actual!))).dataSync()[0]!);
    return difference < 1e-5;
  } catch {
    return false;
  } finally {
    expected?.dispose();
    actual?.dispose();
  }
}
