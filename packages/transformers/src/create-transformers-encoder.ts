import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { type Encoder, EncoderError } from '@userplug/core';

/** Model weight variants of Hugging Face ONNX repositories, by file-name suffix. */
export type TransformersDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/** Settings of {@link createTransformersEncoder}. Only `model` is required. */
export interface TransformersEncoderSettings {
  /**
   * A Hugging Face model id, such as `Xenova/bge-small-en-v1.5` or `Xenova/all-MiniLM-L6-v2`, or
   * the path of a local model directory (config.json, tokenizer.json, tokenizer_config.json,
   * onnx/model.onnx).
   */
  model: string;
  /**
   * How token vectors become one vector: the first token (`cls`) or the mask-weighted mean
   * (`mean`). Default: the model's `1_Pooling/config.json` when present, else `cls` for BGE models
   * (id or folder containing "bge") and `mean` otherwise (MiniLM, mpnet, e5, gte).
   */
  pooling?: 'cls' | 'mean';
  /** L2-normalise every vector. Default true (userplug normalises what it stores either way). */
  normalize?: boolean;
  /** Texts per model call; texts are sorted by length first, so padding stays small. Default 32. */
  batchSize?: number;
  /**
   * Let `@huggingface/transformers` download missing files from the Hugging Face Hub (into
   * `cacheDirectory`). Default false: only local files are read and nothing goes over the network.
   */
  allowRemoteModels?: boolean;
  /**
   * Where downloaded models are kept, and where a model id is looked up
   * (`<cacheDirectory>/<id>/…`). Default: `@huggingface/transformers`'s `env.cacheDir`.
   */
  cacheDirectory?: string;
  /**
   * Text put before every query (`encodeQueries`), not before documents. Default: BGE's English
   * retrieval instruction ("Represent this sentence for searching relevant passages: ") for
   * English BGE models, none otherwise. Pass "" to turn it off.
   */
  queryPrefix?: string;
  /** Which weights: `fp32` reads onnx/model.onnx, `q8` onnx/model_quantized.onnx, `fp16` onnx/model_fp16.onnx, …. Default `fp32`. */
  dtype?: TransformersDtype;
  /** Longest input in tokens; longer texts are cut. Default: the tokenizer's limit, at most the model's positions (512 for BERT-style models). */
  maxLength?: number;
  /** onnxruntime intra-op threads. Default: onnxruntime's choice. */
  threads?: number;
}

/** BGE's recommended instruction for short retrieval queries (English v1.5 models). */
export const bgeQueryInstruction = 'Represent this sentence for searching relevant passages: ';

const dtypeSuffixes: Record<TransformersDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function requiredFiles(dtype: TransformersDtype): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/model${dtypeSuffixes[dtype]}.onnx`];
}

/** Other weight files that exist in a directory, to suggest as `dtype`. */
function availableDtypes(directory: string): TransformersDtype[] {
  return (Object.keys(dtypeSuffixes) as TransformersDtype[]).filter((dtype) =>
    existsSync(join(directory, `onnx/model${dtypeSuffixes[dtype]}.onnx`)),
  );
}

function missingFileError(
  model: string,
  looked: readonly string[],
  settings: TransformersEncoderSettings,
  dtype: TransformersDtype,
  local: boolean,
): EncoderError {
  const directory = looked.find(isDirectory);
  const missing = directory
    ? requiredFiles(dtype).filter((file) => !existsSync(join(directory, file)))
    : requiredFiles(dtype);
  const others = directory ? availableDtypes(directory).filter((other) => other !== dtype) : [];
  const where = looked.map((path) => `"${path}"`).join(' and ');
  const fixes = local
    ? [
        `download the missing files into ${directory ?? looked[0]}`,
        'pass `model` as a Hugging Face id with `allowRemoteModels: true`',
      ]
    : [
        settings.allowRemoteModels
          ? undefined
          : 'set `allowRemoteModels: true` to download it from the Hugging Face Hub',
        'pass `model` as the path of a local directory that holds it',
      ];
  if (others.length > 0) fixes.push(`use the weights you have with \`dtype: '${others[0]}'\``);
  return new EncoderError(
    `Encoder model "${model}" is missing ${missing.join(', ')} (looked in ${where}). ` +
      `${settings.allowRemoteModels || local ? '' : 'Downloads are off. '}To fix it, ${fixes.filter(Boolean).join(', or ')}.`,
    { encoderId: `transformers:${model}` },
  );
}

function readJsonIfPresent(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function defaultPooling(name: string, directory: string | undefined): 'cls' | 'mean' {
  const config = directory ? readJsonIfPresent(join(directory, '1_Pooling/config.json')) : undefined;
  if (config?.pooling_mode_cls_token === true) return 'cls';
  if (config?.pooling_mode_mean_tokens === true) return 'mean';
  return /bge/i.test(name) ? 'cls' : 'mean';
}

function defaultQueryPrefix(name: string): string {
  return /bge-[a-z]+-en/i.test(name) ? bgeQueryInstruction : '';
}

/**
 * An {@link Encoder} for any Hugging Face ONNX sentence-embedding model, run with
 * `@huggingface/transformers` (onnxruntime-node): the model's pooling, L2 normalisation, batching
 * sorted by length, and BGE's query instruction for queries. Reads local files only unless
 * `allowRemoteModels` is set.
 */
export async function createTransformersEncoder(settings: TransformersEncoderSettings): Promise<Encoder> {
  const model = settings?.model;
  if (typeof model !== 'string' || model.length === 0) {
    throw new EncoderError(
      'model must be a Hugging Face model id (such as "Xenova/bge-small-en-v1.5") or the path of a local model directory.',
    );
  }
  const dtype = settings.dtype ?? 'fp32';
  if (!(dtype in dtypeSuffixes)) {
    throw new EncoderError(
      `Unknown dtype "${String(dtype)}". Use one of ${Object.keys(dtypeSuffixes).join(', ')}.`,
    );
  }
  const batchSize = settings.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EncoderError(`batchSize must be a whole number ≥ 1, got ${String(batchSize)}.`);
  }
  const transformers = await import('@huggingface/transformers');
  const cacheDirectory = resolve(settings.cacheDirectory ?? transformers.env.cacheDir ?? '.cache');
  const localPath = resolve(model);
  const isLocal = isDirectory(localPath);
  const name = isLocal ? basename(localPath) : model;
  let directory: string | undefined;
  if (isLocal) {
    directory = localPath;
  } else {
    const candidates = [join(cacheDirectory, model), join(transformers.env.localModelPath, model)];
    directory = candidates.find((candidate) =>
      requiredFiles(dtype).every((file) => existsSync(join(candidate, file))),
    );
    if (!directory && !settings.allowRemoteModels)
      throw missingFileError(model, candidates, settings, dtype, false);
  }
  if (directory && !requiredFiles(dtype).every((file) => existsSync(join(directory!, file)))) {
    throw missingFileError(model, [directory], settings, dtype, isLocal);
  }

  const source = directory ?? model;
  const options = {
    local_files_only: directory !== undefined || !settings.allowRemoteModels,
    cache_dir: cacheDirectory,
  };
  const id = `transformers:${name}`;
  let tokenizer: PreTrainedTokenizer;
  let pretrained: PreTrainedModel;
  try {
    tokenizer = await transformers.AutoTokenizer.from_pretrained(source, options);
    pretrained = await transformers.AutoModel.from_pretrained(source, {
      ...options,
      dtype,
      device: 'cpu',
      ...(settings.threads === undefined ? {} : { session_options: { intraOpNumThreads: settings.threads } }),
    });
  } catch (error) {
    throw new EncoderError(
      `Encoder model "${model}" could not be loaded${directory ? ` from ${directory}` : ' from the Hugging Face Hub'}: ${(error as Error).message}` +
        (settings.allowRemoteModels ? '' : ' Downloads are off (allowRemoteModels: false).'),
      { encoderId: id },
      { cause: error },
    );
  }

  const config = pretrained.config as unknown as Record<string, unknown>;
  const dim = Number(config.hidden_size ?? config.d_model ?? config.dim);
  if (!Number.isInteger(dim) || dim < 1) {
    await pretrained.dispose();
    throw new EncoderError(
      `config.json of "${model}" names no hidden_size, so the vector length is unknown. Use a sentence-embedding model.`,
      { encoderId: id },
    );
  }
  const pooling = settings.pooling ?? defaultPooling(name, directory);
  const normalize = settings.normalize ?? true;
  const queryPrefix = settings.queryPrefix ?? defaultQueryPrefix(name);
  const positions = Number(config.max_position_embeddings ?? 512);
  const tokenizerLimit = Number(tokenizer.model_max_length);
  const maxLength =
    settings.maxLength ??
    Math.min(Number.isFinite(tokenizerLimit) && tokenizerLimit > 0 ? tokenizerLimit : positions, positions);
  const encoderId = `${id}:${pooling}${normalize ? '' : ':raw'}${dtype === 'fp32' ? '' : `:${dtype}`}${settings.maxLength === undefined ? '' : `:${maxLength}`}`;
  let disposed = false;

  const embedBatch = async (texts: readonly string[]): Promise<Float32Array[]> => {
    const inputs = tokenizer([...texts], { padding: true, truncation: true, max_length: maxLength });
    let outputs: Record<string, Tensor>;
    try {
      outputs = (await pretrained(inputs)) as Record<string, Tensor>;
    } catch (error) {
      throw new EncoderError(
        `Encoder ${encoderId} failed on a batch of ${texts.length} texts: ${(error as Error).message}`,
        { encoderId },
        { cause: error },
      );
    }
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
    if (hidden?.dims.length !== 3) {
      throw new EncoderError(
        `Encoder ${encoderId}: the model returns ${Object.keys(outputs).join(', ')}, not token vectors (last_hidden_state). Use a feature-extraction export of the model.`,
        { encoderId },
      );
    }
    const [batch = 0, length = 0, width = 0] = hidden.dims;
    const values = hidden.data as Float32Array;
    const mask = inputs.attention_mask.data as BigInt64Array;
    return Array.from({ length: batch }, (_, row) => {
      const vector = new Float32Array(width);
      if (pooling === 'cls') {
        vector.set(values.subarray(row * length * width, row * length * width + width));
      } else {
        let count = 0;
        for (let position = 0; position < length; position++) {
          if (mask[row * length + position] === 0n) continue;
          count += 1;
          const offset = (row * length + position) * width;
          for (let column = 0; column < width; column++)
            vector[column] = vector[column]! + values[offset + column]!;
        }
        if (count > 0)
          for (let column = 0; column < width; column++) vector[column] = vector[column]! / count;
      }
      if (normalize) {
        const norm = Math.hypot(...vector);
        if (norm > 0) for (let column = 0; column < width; column++) vector[column] = vector[column]! / norm;
      }
      return vector;
    });
  };

  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    if (disposed)
      throw new EncoderError(`Encoder ${encoderId} was disposed. Create a new one.`, { encoderId });
    // Sorting by length keeps each batch's padding (and so its cost) small.
    const order = Array.from(texts.keys()).sort((left, right) => texts[left]!.length - texts[right]!.length);
    const result = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const vectors = await embedBatch(rows.map((row) => texts[row]!));
      rows.forEach((row, position) => {
        result[row] = vectors[position]!;
      });
    }
    return result;
  };

  return {
    id: encoderId,
    dim,
    maxInputTokens: maxLength,
    encode: embed,
    encodeQueries: (texts) => embed(queryPrefix ? texts.map((text) => queryPrefix + text) : texts),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await pretrained.dispose();
    },
  };
}
