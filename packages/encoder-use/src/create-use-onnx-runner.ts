import { normalizeRows } from './normalize-rows.js';
import { useDimension } from './use-model-files.js';

// Runs the converted USE-lite graph on onnxruntime-node (native) or onnxruntime-web (WebAssembly): the same
// model on either. Plain Errors here; the encoder wraps them in EncoderError.

/** The ONNX runtimes USE-lite runs on. */
export type UseRuntime = 'onnxruntime-node' | 'onnxruntime-web';

/** Texts of one model call as token ids: row `r` is `tokenIds[rowStarts[r]]` up to `tokenIds[rowStarts[r + 1]]`. */
export interface TokenBatch {
  /** Every row's token ids, concatenated. */
  readonly tokenIds: Int32Array;
  /** Start of each row in `tokenIds`, plus the total length at the end (rows + 1 entries). */
  readonly rowStarts: Int32Array;
}

/** A loaded session of the USE-lite graph. */
export interface UseOnnxRunner {
  /** The runtime the session runs on. */
  readonly runtime: UseRuntime;
  /** Embeds a batch; returns rows × 512 floats, each row of unit length. Every row needs at least one token. */
  embed(batch: TokenBatch): Promise<Float32Array>;
  /** Frees the session. */
  dispose(): Promise<void>;
}

// The part of the onnxruntime API used here; onnxruntime-node and onnxruntime-web share it.
interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => OrtTensor;
  env: { wasm?: { numThreads?: number } };
}

/** Settings of {@link createUseOnnxRunner}. */
export interface UseOnnxRunnerSettings {
  /** The ONNX model bytes. */
  model: Uint8Array;
  /** `auto` tries onnxruntime-node, then onnxruntime-web. */
  runtime: UseRuntime | 'auto';
  /** Threads of one model call (onnxruntime's intra-op threads, or the WebAssembly threads), per runtime. */
  threads: (runtime: UseRuntime) => number;
}

async function importRuntime(name: UseRuntime): Promise<OrtModule> {
  // Variable specifiers: neither runtime is loaded unless chosen, and bundlers keep both optional.
  const specifier: string = name;
  const module = (await import(specifier)) as OrtModule & { default?: OrtModule };
  return typeof module.InferenceSession === 'function' || typeof module.InferenceSession === 'object'
    ? module
    : module.default!;
}

/** Loads the runtime: the requested one, or for `auto` onnxruntime-node and, where it cannot load, onnxruntime-web. */
export async function loadUseRuntime(
  preference: UseRuntime | 'auto',
): Promise<{ runtime: UseRuntime; module: OrtModule }> {
  if (preference !== 'auto') return { runtime: preference, module: await importRuntime(preference) };
  try {
    return { runtime: 'onnxruntime-node', module: await importRuntime('onnxruntime-node') };
  } catch (nativeError) {
    try {
      return { runtime: 'onnxruntime-web', module: await importRuntime('onnxruntime-web') };
    } catch (webError) {
      throw new Error(
        `Neither onnxruntime-node (${messageOf(nativeError)}) nor onnxruntime-web (${messageOf(webError)}) could be ` +
          'loaded. Reinstall @userplug/encoder-use with its dependencies.',
        { cause: nativeError },
      );
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates an onnxruntime session of the USE-lite graph (CPU, every graph optimisation on). */
export async function createUseOnnxRunner(settings: UseOnnxRunnerSettings): Promise<UseOnnxRunner> {
  const { runtime, module } = await loadUseRuntime(settings.runtime);
  const threads = settings.threads(runtime);
  let options: Record<string, unknown>;
  if (runtime === 'onnxruntime-node') {
    options = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Without spinning, idle pool threads sleep instead of burning the host application's cores.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
  } else {
    if (module.env.wasm) module.env.wasm.numThreads = threads;
    options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  }
  let session: OrtSession | undefined = await module.InferenceSession.create(settings.model, options);
  // One call at a time: onnxruntime-node runs on the calling thread, and overlapping calls only add memory.
  let queue: Promise<unknown> = Promise.resolve();

  async function run(batch: TokenBatch): Promise<Float32Array> {
    if (session === undefined) throw new Error('The USE-lite session was disposed.');
    const rowCount = batch.rowStarts.length - 1;
    const tokenCount = batch.tokenIds.length;
    const indices = new BigInt64Array(tokenCount * 2);
    const values = new BigInt64Array(tokenCount);
    for (let row = 0; row < rowCount; row += 1) {
      const start = batch.rowStarts[row]!;
      const end = batch.rowStarts[row + 1]!;
      if (end <= start) throw new RangeError(`Row ${row} of the batch has no tokens.`);
      for (let token = start; token < end; token += 1) {
        indices[token * 2] = BigInt(row);
        indices[token * 2 + 1] = BigInt(token - start);
        values[token] = BigInt(batch.tokenIds[token]!);
      }
    }
    const outputs = await session.run({
      indices: new module.Tensor('int64', indices, [tokenCount, 2]),
      values: new module.Tensor('int64', values, [tokenCount]),
    });
    const embeddings = outputs.embeddings;
    if (embeddings === undefined || embeddings.dims[0] !== rowCount || embeddings.dims[1] !== useDimension) {
      throw new Error(
        `USE-lite returned shape [${embeddings?.dims.join(', ') ?? 'nothing'}] for ${rowCount} texts.`,
      );
    }
    return normalizeRows(Float32Array.from(embeddings.data as Float32Array));
  }

  return {
    runtime,
    embed(batch) {
      const result = queue.then(() => run(batch));
      queue = result.catch(() => undefined);
      return result;
    },
    async dispose() {
      const current = session;
      session = undefined;
      await queue;
      await current?.release();
    },
  };
}
