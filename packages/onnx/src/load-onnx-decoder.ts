import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { FileFormatError, InvalidArgumentError, ProviderError } from '@userplug/core';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { type ChatTokenizer, loadChatTokenizer } from './chat-tokenizer.js';
import { type DecoderConfig, readDecoderConfig } from './decoder-config.js';
import { type EmbeddingTable, openEmbeddingTable } from './embedding-table.js';
import { floatsToHalves, halvesToFloats } from './float16.js';
import { prepareDecoderModel } from './prepare-decoder-model.js';

/** Settings of {@link loadOnnxDecoder}. */
export interface OnnxDecoderSettings {
  /** A Hugging Face–layout model directory: config.json, tokenizer.json, tokenizer_config.json, onnx/…. */
  modelDirectory: string;
  /**
   * The decoder graph, relative to `modelDirectory`. Default: the first that exists of
   * `onnx/model.onnx`, `onnx/decoder_model_merged.onnx`, `model.onnx`, `decoder_model_merged.onnx`.
   */
  modelFile?: string;
  /**
   * Where rewritten graphs and extracted embedding tables are kept (a few files per model; the
   * model's external weights are linked, not copied). Default: `$USERPLUG_CACHE_DIR/onnx`, else
   * `$XDG_CACHE_HOME/userplug/onnx`, else `~/.cache/userplug/onnx`.
   */
  cacheDirectory?: string;
  /** onnxruntime intra-op threads. Default: onnxruntime's choice (one per physical core). */
  threads?: number;
  /** More onnxruntime session options (execution providers, graph optimization level, …). */
  sessionOptions?: InferenceSession.SessionOptions;
}

/** The key/value cache of the positions a decoder has seen; pass it back to continue. Never mutated. */
export interface DecoderCache {
  /** Positions it covers. */
  readonly length: number;
  /** `past_key_values.*` tensors by input name. */
  readonly tensors: Readonly<Record<string, Tensor>>;
}

/** One forward pass. */
export interface DecoderForwardInput {
  /** Input embeddings of the new positions, row-major `positions × hiddenSize`. */
  embeddings: Float32Array;
  /**
   * Token ids of the new positions, for graphs that still read `input_ids` (only for shapes after
   * the rewrite); soft-token positions may hold any id. Default: the padding id everywhere.
   */
  tokenIds?: readonly number[];
  /** The cache of the positions before. Default: empty. */
  cache?: DecoderCache;
  /** Return logits for every new position (`all`) or only the last (`last`). Default `all`. */
  logits?: 'all' | 'last';
  /** Run at most this many positions per call (bounds the logits buffer of long prompts). Default: all at once. */
  chunkSize?: number;
}

/** What a forward pass returns. */
export interface DecoderForwardOutput {
  /** Row-major `rows × vocabSize` logits (rows: the new positions, or 1 with `logits: 'last'`). */
  logits: Float32Array;
  /** Columns of `logits`. */
  vocabSize: number;
  /** The cache including the new positions. */
  cache: DecoderCache;
}

/** A local decoder LLM that takes input embeddings: the building block of the ONNX adapter and of projector training. */
export interface OnnxDecoder {
  /** The model directory. */
  readonly modelDirectory: string;
  /** Sizes and special tokens from config.json and generation_config.json. */
  readonly config: DecoderConfig;
  /** The model's tokenizer and chat template. */
  readonly tokenizer: ChatTokenizer;
  /** The token-embedding table (prompt tokens are looked up here, then fed as `inputs_embeds`). */
  readonly embeddings: EmbeddingTable;
  /** Which graph runs: the original, or the rewrite that takes `inputs_embeds`. */
  readonly graph: { path: string; rewritten: boolean; fromCache: boolean; needsInputIds: boolean };
  /** An empty cache, to start from. */
  emptyCache(): DecoderCache;
  /** Runs new positions through the model. Calls must not overlap. */
  forward(input: DecoderForwardInput): Promise<DecoderForwardOutput>;
  /** Frees the session and the table. */
  dispose(): Promise<void>;
}

/** The default cache folder for rewritten graphs. */
export function defaultOnnxCacheDirectory(): string {
  const root =
    process.env.USERPLUG_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'userplug');
  return join(root, 'onnx');
}

const defaultModelFiles = [
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'model.onnx',
  'decoder_model_merged.onnx',
];

function findModelFile(directory: string, modelFile: string | undefined): string {
  const candidates = modelFile === undefined ? defaultModelFiles : [modelFile];
  for (const candidate of candidates) {
    const path = join(directory, candidate);
    if (existsSync(path)) return path;
  }
  const looked = candidates.map((candidate) => join(directory, candidate)).join(', ');
  throw new FileFormatError(
    join(directory, candidates[0]!),
    `No ONNX decoder found in ${directory} (looked for ${looked}). Download the model's onnx/ folder, ` +
      'or name the decoder graph with `modelFile` (for example "onnx/model_fp16.onnx").',
  );
}

/**
 * Loads a Hugging Face–layout ONNX decoder with onnxruntime-node, its tokenizer and its embedding
 * table, rewriting a graph that takes `input_ids` into one that takes `inputs_embeds` (once, cached).
 */
export async function loadOnnxDecoder(settings: OnnxDecoderSettings): Promise<OnnxDecoder> {
  const modelDirectory = resolve(settings.modelDirectory);
  if (!existsSync(modelDirectory)) {
    throw new FileFormatError(
      modelDirectory,
      `The model directory ${modelDirectory} does not exist. Download the model there (for example with \`huggingface-cli download onnx-community/Qwen2.5-0.5B-Instruct --local-dir ${modelDirectory}\`), or fix \`modelDirectory\`.`,
    );
  }
  const modelPath = findModelFile(modelDirectory, settings.modelFile);
  const config = await readDecoderConfig(modelDirectory);
  const tokenizer = await loadChatTokenizer(modelDirectory, `onnx:${basename(modelDirectory)}`);
  const prepared = await prepareDecoderModel({
    modelPath,
    cacheDirectory: settings.cacheDirectory ?? defaultOnnxCacheDirectory(),
  });
  const embeddings = openEmbeddingTable(prepared.embeddings, prepared.typicalNorm);
  if (embeddings.hiddenSize !== config.hiddenSize) {
    embeddings.close();
    throw new FileFormatError(
      join(modelDirectory, 'config.json'),
      `config.json says hidden_size ${config.hiddenSize}, the embedding table in ${modelPath} has ${embeddings.hiddenSize} columns. Use the config.json exported with this model.`,
    );
  }
  const ort = await import('onnxruntime-node');
  let session: InferenceSession;
  try {
    const options: InferenceSession.SessionOptions = {
      ...(settings.threads === undefined ? {} : { intraOpNumThreads: settings.threads }),
      ...settings.sessionOptions,
    };
    session =
      prepared.externalDataFolder === undefined
        ? await ort.InferenceSession.create(prepared.modelPath, options)
        : await ort.InferenceSession.create(await readFile(prepared.modelPath), {
            ...options,
            extra: {
              ...(options.extra as Record<string, unknown> | undefined),
              session: { model_external_initializers_file_folder_path: prepared.externalDataFolder },
            },
          });
  } catch (error) {
    embeddings.close();
    throw new ProviderError(
      `onnxruntime could not load ${prepared.modelPath} (from ${modelPath}): ${(error as Error).message}`,
      { provider: 'onnx' },
      { cause: error },
    );
  }

  const inputTypes = new Map<string, string>();
  const inputShapes = new Map<string, readonly (number | string)[]>();
  for (const metadata of session.inputMetadata) {
    if (metadata.isTensor) {
      inputTypes.set(metadata.name, metadata.type);
      inputShapes.set(metadata.name, metadata.shape);
    }
  }
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values'));
  const presentNames = new Map<string, string>();
  for (const past of pastNames) {
    const present = past.replace('past_key_values', 'present');
    if (!session.outputNames.includes(present)) {
      throw new FileFormatError(
        prepared.modelPath,
        `${modelPath} takes ${past} but has no ${present} output. Use a decoder exported with its KV cache (with-past or merged).`,
      );
    }
    presentNames.set(present, past);
  }
  if (!session.outputNames.includes('logits')) {
    throw new FileFormatError(
      prepared.modelPath,
      `${modelPath} has no logits output (outputs: ${session.outputNames.join(', ')}). Use a causal-LM decoder graph.`,
    );
  }
  const embedsType = inputTypes.get('inputs_embeds') ?? 'float32';
  const padId = config.padTokenId ?? tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;

  const emptyCache = (): DecoderCache => {
    const tensors: Record<string, Tensor> = {};
    for (const name of pastNames) {
      const shape = inputShapes.get(name) ?? [];
      const heads = typeof shape[1] === 'number' ? shape[1] : config.keyValueHeads;
      const width = typeof shape[3] === 'number' ? shape[3] : config.headDim;
      const type = inputTypes.get(name) === 'float16' ? 'float16' : 'float32';
      tensors[name] =
        type === 'float16'
          ? new ort.Tensor('float16', new Uint16Array(0), [1, heads, 0, width])
          : new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, width]);
    }
    return { length: 0, tensors };
  };

  let disposed = false;
  const runOnce = async (
    embeddingsChunk: Float32Array,
    tokenIds: readonly number[],
    cache: DecoderCache,
    keepAll: boolean,
  ): Promise<DecoderForwardOutput> => {
    const positions = tokenIds.length;
    const total = cache.length + positions;
    const feeds: Record<string, Tensor> = { ...cache.tensors };
    const names = new Set(session.inputNames);
    feeds.inputs_embeds =
      embedsType === 'float16'
        ? new ort.Tensor('float16', floatsToHalves(embeddingsChunk), [1, positions, config.hiddenSize])
        : new ort.Tensor('float32', embeddingsChunk.slice(), [1, positions, config.hiddenSize]);
    if (names.has('input_ids')) {
      feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(tokenIds, BigInt), [1, positions]);
    }
    if (names.has('attention_mask')) {
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
    }
    if (names.has('position_ids')) {
      const positionIds = new BigInt64Array(positions);
      for (let index = 0; index < positions; index++) positionIds[index] = BigInt(cache.length + index);
      feeds.position_ids = new ort.Tensor('int64', positionIds, [1, positions]);
    }
    if (names.has('use_cache_branch')) {
      feeds.use_cache_branch = new ort.Tensor('bool', [cache.length > 0], [1]);
    }
    let outputs: InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run(feeds);
    } catch (error) {
      throw new ProviderError(
        `The ONNX decoder failed on ${positions} positions after ${cache.length} cached ones: ${(error as Error).message}`,
        { provider: 'onnx' },
        { cause: error },
      );
    }
    const logitsTensor = outputs.logits as Tensor;
    const vocabSize = logitsTensor.dims[logitsTensor.dims.length - 1]!;
    const raw = logitsTensor.data as Float32Array | Uint16Array;
    const rows = keepAll ? raw : raw.subarray(raw.length - vocabSize);
    const logits =
      raw instanceof Float32Array ? Float32Array.from(rows) : halvesToFloats(rows as Uint16Array);
    const tensors: Record<string, Tensor> = {};
    for (const [present, past] of presentNames) tensors[past] = outputs[present] as Tensor;
    return { logits, vocabSize, cache: { length: total, tensors } };
  };

  return {
    modelDirectory,
    config,
    tokenizer,
    embeddings,
    graph: {
      path: prepared.modelPath,
      rewritten: prepared.rewritten,
      fromCache: prepared.fromCache,
      needsInputIds: prepared.needsInputIds,
    },
    emptyCache,
    async forward(input) {
      if (disposed) {
        throw new ProviderError('This ONNX decoder was disposed. Load it again.', { provider: 'onnx' });
      }
      const hidden = config.hiddenSize;
      const positions = input.embeddings.length / hidden;
      if (!Number.isInteger(positions) || positions < 1) {
        throw new InvalidArgumentError(
          'embeddings',
          `embeddings must hold whole rows of ${hidden} values (the hidden size), at least one; got ${input.embeddings.length} values.`,
        );
      }
      const tokenIds = input.tokenIds ?? new Array<number>(positions).fill(padId);
      if (tokenIds.length !== positions) {
        throw new InvalidArgumentError(
          'tokenIds',
          `tokenIds has ${tokenIds.length} ids for ${positions} embedding rows; pass one id per row.`,
        );
      }
      const chunkSize = input.chunkSize ?? positions;
      const keepAll = (input.logits ?? 'all') === 'all';
      let cache = input.cache ?? emptyCache();
      const parts: Float32Array[] = [];
      let vocabSize = 0;
      for (let start = 0; start < positions; start += chunkSize) {
        const end = Math.min(positions, start + chunkSize);
        const output = await runOnce(
          input.embeddings.subarray(start * hidden, end * hidden),
          tokenIds.slice(start, end),
          cache,
          keepAll,
        );
        cache = output.cache;
        vocabSize = output.vocabSize;
        if (keepAll || end === positions) parts.push(output.logits);
      }
      const logits = parts.length === 1 ? parts[0]! : concatenate(parts);
      return { logits, vocabSize, cache };
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      embeddings.close();
      await session.release();
    },
  };
}

function concatenate(parts: readonly Float32Array[]): Float32Array {
  const result = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
