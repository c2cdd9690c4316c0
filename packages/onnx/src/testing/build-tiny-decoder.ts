import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createSeededRandom } from '@userplug/core/internal';
import { onnx } from '../onnx-proto.js';
import { buildTinyByteTokenizer, tinyChatTokens } from './build-tiny-tokenizer.js';
import { OnnxGraphBuilder, randomValues } from './onnx-graph-builder.js';

/** Settings of {@link buildTinyDecoder}. Sizes are small by default so tests run in milliseconds. */
export interface TinyDecoderSettings {
  /** Directory the model is written to (Hugging Face layout). Created when missing. */
  directory: string;
  /**
   * `input-ids`: the graph takes `input_ids` and gathers the embeddings itself, as exported LLMs do.
   * `inputs-embeds`: the graph takes `inputs_embeds`, and `onnx/embed_tokens.onnx` holds the table
   * (the layout onnx-community uses for multimodal models). Same weights for the same seed. Default `input-ids`.
   */
  variant?: 'input-ids' | 'inputs-embeds';
  /** Seed of every weight. Default 1. */
  seed?: number;
  /** Hidden size. Default 32. */
  hiddenSize?: number;
  /** Transformer layers. Default 2. */
  layers?: number;
  /** Attention heads. Default 4. */
  heads?: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). Default 2. */
  keyValueHeads?: number;
  /** MLP width. Default 64. */
  intermediateSize?: number;
  /** Longest sequence (rotary table size). Default 512. */
  maxPositions?: number;
  /** BPE merges of the tokenizer. Default 96. */
  merges?: number;
  /** Model file, relative to `directory`. Default `onnx/model.onnx`. */
  modelFile?: string;
  /**
   * In the `input-ids` variant, also read the sequence length from `Shape(input_ids)`, as exporters
   * do, so `input_ids` keeps a use after the embedding Gather is cut. Default true.
   */
  shapeFromInputIds?: boolean;
  /** Scale of the projection weights (uniform in ±scale/√fan-in). Default 3 (varied greedy text; 1.5 repeats tokens). */
  weightScale?: number;
  /** Store the weights in `<model file>_data` next to the graph (external data), as large exports do. Default false. */
  externalData?: boolean;
}

/** What {@link buildTinyDecoder} wrote. */
export interface TinyDecoder {
  /** The model directory. */
  directory: string;
  /** Absolute path of the decoder graph. */
  modelPath: string;
  /** Path of `onnx/embed_tokens.onnx` in the `inputs-embeds` variant. */
  embedTokensPath: string | undefined;
  /** Contents of config.json. */
  config: {
    hidden_size: number;
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    vocab_size: number;
    max_position_embeddings: number;
    [key: string]: unknown;
  };
  /** The token-embedding table, row-major `[vocab, hidden]`. */
  embeddingTable: Float32Array;
  /** Ids of `<|endoftext|>`, `<|im_start|>` and `<|im_end|>`. */
  specialIds: Record<string, number>;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/**
 * Writes a seeded, decoder-only transformer in Hugging Face ONNX layout (config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json with a ChatML template,
 * onnx/model.onnx): Qwen2's architecture in miniature (RMSNorm, rotary positions, grouped-query
 * attention, SwiGLU, tied embeddings) with `past_key_values.*` inputs and `present.*` outputs.
 */
export async function buildTinyDecoder(settings: TinyDecoderSettings): Promise<TinyDecoder> {
  const variant = settings.variant ?? 'input-ids';
  const hidden = settings.hiddenSize ?? 32;
  const layers = settings.layers ?? 2;
  const heads = settings.heads ?? 4;
  const keyValueHeads = settings.keyValueHeads ?? 2;
  const intermediate = settings.intermediateSize ?? 64;
  const maxPositions = settings.maxPositions ?? 512;
  const headDim = hidden / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0 || heads % keyValueHeads !== 0) {
    throw new Error('hiddenSize / heads must be an even whole number and heads a multiple of keyValueHeads.');
  }
  const tokenizer = buildTinyByteTokenizer({
    maxLength: maxPositions,
    ...(settings.merges === undefined ? {} : { merges: settings.merges }),
  });
  const vocab = tokenizer.vocabSize;
  const random = createSeededRandom(settings.seed ?? 1).next;
  const embeddingTable = randomValues(random, vocab * hidden, 1);
  const linear = (rows: number, columns: number) =>
    randomValues(random, rows * columns, (settings.weightScale ?? 3) / Math.sqrt(rows));
  const norm = () => Float32Array.from(randomValues(random, hidden, 0.2), (value) => 1 + value);

  const b = new OnnxGraphBuilder();
  const table = b.floatTensor(embeddingTable, [vocab, hidden], 'model.embed_tokens.weight');
  let embeddings: string;
  if (variant === 'input-ids') {
    b.input('input_ids', INT64, ['batch_size', 'sequence_length']);
    embeddings = b.node('Gather', [table, 'input_ids'], { axis: 0 }, 1, [
      '/model/embed_tokens/Gather_output_0',
    ])[0]!;
  } else {
    embeddings = b.input('inputs_embeds', FLOAT, ['batch_size', 'sequence_length', hidden]);
  }
  b.input('attention_mask', INT64, ['batch_size', 'total_sequence_length']);
  b.input('position_ids', INT64, ['batch_size', 'sequence_length']);
  for (let layer = 0; layer < layers; layer++) {
    for (const part of ['key', 'value']) {
      b.input(`past_key_values.${layer}.${part}`, FLOAT, [
        'batch_size',
        keyValueHeads,
        'past_sequence_length',
        headDim,
      ]);
    }
  }

  const scalarIndex = (value: number) => b.int64Tensor([value], []);
  const axes = (...values: number[]) => b.int64Tensor(values);
  const shapeSource =
    variant === 'input-ids' && (settings.shapeFromInputIds ?? true) ? 'input_ids' : embeddings;
  const sequenceLength = b.op('Gather', [b.op('Shape', [shapeSource]), scalarIndex(1)], { axis: 0 });
  const pastLength = b.op('Gather', [b.op('Shape', ['past_key_values.0.key']), scalarIndex(2)], { axis: 0 });
  const totalLength = b.op('Add', [pastLength, sequenceLength]);
  const one = scalarIndex(1);
  const queryPositions = b.op('Range', [pastLength, totalLength, one]);
  const keyPositions = b.op('Range', [scalarIndex(0), totalLength, one]);
  const future = b.op('Greater', [
    b.op('Unsqueeze', [keyPositions, axes(0)]),
    b.op('Unsqueeze', [queryPositions, axes(1)]),
  ]);
  const notPadding = b.op('Unsqueeze', [b.op('Equal', ['attention_mask', one]), axes(1, 2)]);
  const allowed = b.op('And', [b.op('Not', [future]), notPadding]);
  const attentionBias = b.op('Where', [allowed, b.scalar(0), b.scalar(-1e9)]);

  const half = headDim / 2;
  const cosines = new Float32Array(maxPositions * half);
  const sines = new Float32Array(maxPositions * half);
  for (let position = 0; position < maxPositions; position++) {
    for (let index = 0; index < half; index++) {
      const angle = position * 10_000 ** (-(2 * index) / headDim);
      cosines[position * half + index] = Math.cos(angle);
      sines[position * half + index] = Math.sin(angle);
    }
  }
  const cosine = b.op('Unsqueeze', [
    b.op('Gather', [b.floatTensor(cosines, [maxPositions, half]), 'position_ids'], { axis: 0 }),
    axes(1),
  ]);
  const sine = b.op('Unsqueeze', [
    b.op('Gather', [b.floatTensor(sines, [maxPositions, half]), 'position_ids'], { axis: 0 }),
    axes(1),
  ]);
  const halves = b.int64Tensor([half, half]);
  const rotate = (x: string): string => {
    const [first, second] = b.node('Split', [x, halves], { axis: -1 }, 2) as [string, string];
    return b.op(
      'Concat',
      [
        b.op('Sub', [b.op('Mul', [first, cosine]), b.op('Mul', [second, sine])]),
        b.op('Add', [b.op('Mul', [second, cosine]), b.op('Mul', [first, sine])]),
      ],
      { axis: -1 },
    );
  };
  const epsilon = b.scalar(1e-6);
  const rmsNorm = (x: string): string => {
    const variance = b.op('ReduceMean', [b.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const normalized = b.op('Div', [x, b.op('Sqrt', [b.op('Add', [variance, epsilon])])]);
    return b.op('Mul', [normalized, b.floatTensor(norm(), [hidden])]);
  };
  const splitHeads = (x: string, count: number): string =>
    b.op('Transpose', [b.op('Reshape', [x, b.int64Tensor([0, 0, count, headDim])])], { perm: [0, 2, 1, 3] });
  const repeat = heads / keyValueHeads;
  const expandHeads = (x: string): string =>
    repeat === 1
      ? x
      : b.op('Reshape', [
          b.op('Expand', [b.op('Unsqueeze', [x, axes(2)]), b.int64Tensor([1, 1, repeat, 1, 1])]),
          b.int64Tensor([0, heads, -1, headDim]),
        ]);
  const scale = b.scalar(1 / Math.sqrt(headDim));

  let x = embeddings;
  for (let layer = 0; layer < layers; layer++) {
    const h = rmsNorm(x);
    const query = rotate(
      splitHeads(b.op('MatMul', [h, b.floatTensor(linear(hidden, hidden), [hidden, hidden])]), heads),
    );
    const keyWidth = keyValueHeads * headDim;
    const key = rotate(
      splitHeads(
        b.op('MatMul', [h, b.floatTensor(linear(hidden, keyWidth), [hidden, keyWidth])]),
        keyValueHeads,
      ),
    );
    const value = splitHeads(
      b.op('MatMul', [h, b.floatTensor(linear(hidden, keyWidth), [hidden, keyWidth])]),
      keyValueHeads,
    );
    const presentKey = b.node('Concat', [`past_key_values.${layer}.key`, key], { axis: 2 }, 1, [
      `present.${layer}.key`,
    ])[0]!;
    const presentValue = b.node('Concat', [`past_key_values.${layer}.value`, value], { axis: 2 }, 1, [
      `present.${layer}.value`,
    ])[0]!;
    const keys = b.op('Transpose', [expandHeads(presentKey)], { perm: [0, 1, 3, 2] });
    const scores = b.op('Add', [b.op('Mul', [b.op('MatMul', [query, keys]), scale]), attentionBias]);
    const context = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), expandHeads(presentValue)]);
    const merged = b.op('Reshape', [
      b.op('Transpose', [context], { perm: [0, 2, 1, 3] }),
      b.int64Tensor([0, 0, hidden]),
    ]);
    x = b.op('Add', [x, b.op('MatMul', [merged, b.floatTensor(linear(hidden, hidden), [hidden, hidden])])]);
    const h2 = rmsNorm(x);
    const gate = b.op('MatMul', [h2, b.floatTensor(linear(hidden, intermediate), [hidden, intermediate])]);
    const up = b.op('MatMul', [h2, b.floatTensor(linear(hidden, intermediate), [hidden, intermediate])]);
    const activated = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
    x = b.op('Add', [
      x,
      b.op('MatMul', [activated, b.floatTensor(linear(intermediate, hidden), [intermediate, hidden])]),
    ]);
  }
  b.node('MatMul', [rmsNorm(x), b.op('Transpose', [table], { perm: [1, 0] })], {}, 1, ['logits']);
  b.output('logits', FLOAT, ['batch_size', 'sequence_length', vocab]);
  for (let layer = 0; layer < layers; layer++) {
    for (const part of ['key', 'value']) {
      b.output(`present.${layer}.${part}`, FLOAT, [
        'batch_size',
        keyValueHeads,
        'total_sequence_length',
        headDim,
      ]);
    }
  }

  const directory = settings.directory;
  const modelPath = join(directory, settings.modelFile ?? 'onnx/model.onnx');
  await mkdir(dirname(modelPath), { recursive: true });
  const externalName = `${basename(modelPath)}_data`;
  const encoded = b.model('tiny-decoder', settings.externalData ? { externalData: externalName } : {});
  await writeFile(modelPath, encoded.model);
  if (encoded.data) await writeFile(join(dirname(modelPath), externalName), encoded.data);
  let embedTokensPath: string | undefined;
  if (variant === 'inputs-embeds') {
    const embed = new OnnxGraphBuilder();
    const embedTable = embed.floatTensor(embeddingTable, [vocab, hidden], 'model.embed_tokens.weight');
    embed.input('input_ids', INT64, ['batch_size', 'sequence_length']);
    embed.node('Gather', [embedTable, 'input_ids'], { axis: 0 }, 1, ['inputs_embeds']);
    embed.output('inputs_embeds', FLOAT, ['batch_size', 'sequence_length', hidden]);
    embedTokensPath = join(directory, 'onnx/embed_tokens.onnx');
    await mkdir(dirname(embedTokensPath), { recursive: true });
    await writeFile(embedTokensPath, embed.model('tiny-embed-tokens').model);
  }

  const endOfText = tokenizer.specialIds[tinyChatTokens.endOfText]!;
  const imEnd = tokenizer.specialIds[tinyChatTokens.imEnd]!;
  const config = {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_size: hidden,
    intermediate_size: intermediate,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: keyValueHeads,
    vocab_size: vocab,
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-6,
    rope_theta: 10_000,
    tie_word_embeddings: true,
    bos_token_id: endOfText,
    eos_token_id: imEnd,
    torch_dtype: 'float32',
    use_cache: true,
  };
  const writeJson = (name: string, value: unknown) =>
    writeFile(join(directory, name), `${JSON.stringify(value, null, 2)}\n`);
  await Promise.all([
    writeJson('config.json', config),
    writeJson('generation_config.json', {
      bos_token_id: endOfText,
      eos_token_id: [imEnd, endOfText],
      pad_token_id: endOfText,
    }),
    writeJson('tokenizer.json', tokenizer.tokenizer),
    writeJson('tokenizer_config.json', tokenizer.tokenizerConfig),
  ]);
  return { directory, modelPath, embedTokensPath, config, embeddingTable, specialIds: tokenizer.specialIds };
}
