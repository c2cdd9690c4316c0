import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createSeededRandom } from '@userplug/core/internal';
import { onnx } from '../onnx-proto.js';
import { buildTinyWordPieceTokenizer } from './build-tiny-tokenizer.js';
import { OnnxGraphBuilder, randomValues } from './onnx-graph-builder.js';

/** Settings of {@link buildTinyBertEncoder}. */
export interface TinyBertSettings {
  /** Directory the model is written to (Hugging Face layout). Created when missing. */
  directory: string;
  /** Seed of every weight. Default 1. */
  seed?: number;
  /** Hidden size (the embedding dimension). Default 32. */
  hiddenSize?: number;
  /** Encoder layers. Default 2. */
  layers?: number;
  /** Attention heads. Default 4. */
  heads?: number;
  /** MLP width. Default 64. */
  intermediateSize?: number;
  /** Longest input, in tokens. Default 128. */
  maxPositions?: number;
  /** Also write `1_Pooling/config.json` with this pooling, as sentence-transformers repositories carry. Default: not written. */
  pooling?: 'cls' | 'mean';
  /** Model file, relative to `directory`. Default `onnx/model.onnx`. */
  modelFile?: string;
}

/** What {@link buildTinyBertEncoder} wrote. */
export interface BertEncoderFiles {
  /** The model directory. */
  directory: string;
  /** Absolute path of the ONNX graph. */
  modelPath: string;
  /** The hidden size. */
  hiddenSize: number;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/**
 * Writes a seeded BERT-style sentence encoder in Hugging Face ONNX layout (config.json,
 * tokenizer.json, tokenizer_config.json, onnx/model.onnx): word, position and type embeddings,
 * post-LayerNorm encoder layers with masked self-attention and GELU, output `last_hidden_state`.
 */
export async function buildTinyBertEncoder(settings: TinyBertSettings): Promise<BertEncoderFiles> {
  const hidden = settings.hiddenSize ?? 32;
  const layers = settings.layers ?? 2;
  const heads = settings.heads ?? 4;
  const intermediate = settings.intermediateSize ?? 64;
  const maxPositions = settings.maxPositions ?? 128;
  const headDim = hidden / heads;
  const tokenizer = buildTinyWordPieceTokenizer({ maxLength: maxPositions });
  const random = createSeededRandom(settings.seed ?? 1).next;
  const b = new OnnxGraphBuilder();
  const weight = (rows: number, columns: number) =>
    b.floatTensor(randomValues(random, rows * columns, 1.5 / Math.sqrt(rows)), [rows, columns]);
  const bias = (size: number) => b.floatTensor(randomValues(random, size, 0.1), [size]);
  const axes = (...values: number[]) => b.int64Tensor(values);
  const epsilon = b.scalar(1e-12);
  const layerNorm = (x: string): string => {
    const mean = b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const centered = b.op('Sub', [x, mean]);
    const variance = b.op('ReduceMean', [b.op('Mul', [centered, centered])], { axes: [-1], keepdims: 1 });
    const normalized = b.op('Div', [centered, b.op('Sqrt', [b.op('Add', [variance, epsilon])])]);
    const gamma = b.floatTensor(
      Float32Array.from(randomValues(random, hidden, 0.2), (value) => 1 + value),
      [hidden],
    );
    return b.op('Add', [b.op('Mul', [normalized, gamma]), bias(hidden)]);
  };
  const linear = (x: string, rows: number, columns: number) =>
    b.op('Add', [b.op('MatMul', [x, weight(rows, columns)]), bias(columns)]);
  const splitHeads = (x: string) =>
    b.op('Transpose', [b.op('Reshape', [x, b.int64Tensor([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });

  b.input('input_ids', INT64, ['batch_size', 'sequence_length']);
  b.input('attention_mask', INT64, ['batch_size', 'sequence_length']);
  b.input('token_type_ids', INT64, ['batch_size', 'sequence_length']);
  const words = b.op(
    'Gather',
    [
      b.floatTensor(randomValues(random, tokenizer.vocabSize * hidden, 1), [tokenizer.vocabSize, hidden]),
      'input_ids',
    ],
    { axis: 0 },
  );
  const length = b.op('Gather', [b.op('Shape', ['input_ids']), b.int64Tensor([1], [])], { axis: 0 });
  const positionIds = b.op('Range', [b.int64Tensor([0], []), length, b.int64Tensor([1], [])]);
  const positions = b.op(
    'Gather',
    [b.floatTensor(randomValues(random, maxPositions * hidden, 0.5), [maxPositions, hidden]), positionIds],
    { axis: 0 },
  );
  const types = b.op(
    'Gather',
    [b.floatTensor(randomValues(random, 2 * hidden, 0.5), [2, hidden]), 'token_type_ids'],
    { axis: 0 },
  );
  let x = layerNorm(b.op('Add', [b.op('Add', [words, positions]), types]));
  const maskFloat = b.op('Cast', ['attention_mask'], { to: FLOAT });
  const maskBias = b.op('Unsqueeze', [
    b.op('Mul', [b.op('Sub', [b.scalar(1), maskFloat]), b.scalar(-10_000)]),
    axes(1, 2),
  ]);
  const scale = b.scalar(1 / Math.sqrt(headDim));
  for (let layer = 0; layer < layers; layer++) {
    const query = splitHeads(linear(x, hidden, hidden));
    const key = splitHeads(linear(x, hidden, hidden));
    const value = splitHeads(linear(x, hidden, hidden));
    const scores = b.op('Add', [
      b.op('Mul', [b.op('MatMul', [query, b.op('Transpose', [key], { perm: [0, 1, 3, 2] })]), scale]),
      maskBias,
    ]);
    const context = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), value]);
    const merged = b.op('Reshape', [
      b.op('Transpose', [context], { perm: [0, 2, 1, 3] }),
      b.int64Tensor([0, 0, hidden]),
    ]);
    x = layerNorm(b.op('Add', [x, linear(merged, hidden, hidden)]));
    const up = linear(x, hidden, intermediate);
    const gelu = b.op('Mul', [
      b.op('Mul', [up, b.scalar(0.5)]),
      b.op('Add', [b.scalar(1), b.op('Erf', [b.op('Div', [up, b.scalar(Math.SQRT2)])])]),
    ]);
    x = layerNorm(b.op('Add', [x, linear(gelu, intermediate, hidden)]));
  }
  b.node('Identity', [x], {}, 1, ['last_hidden_state']);
  b.output('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', hidden]);

  const directory = settings.directory;
  const modelPath = join(directory, settings.modelFile ?? 'onnx/model.onnx');
  await mkdir(dirname(modelPath), { recursive: true });
  await writeFile(modelPath, b.model('tiny-bert').model);
  const writeJson = async (name: string, value: unknown) => {
    await mkdir(dirname(join(directory, name)), { recursive: true });
    await writeFile(join(directory, name), `${JSON.stringify(value, null, 2)}\n`);
  };
  await Promise.all([
    writeJson('config.json', {
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      intermediate_size: intermediate,
      max_position_embeddings: maxPositions,
      vocab_size: tokenizer.vocabSize,
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
    }),
    writeJson('tokenizer.json', tokenizer.tokenizer),
    writeJson('tokenizer_config.json', tokenizer.tokenizerConfig),
    ...(settings.pooling === undefined
      ? []
      : [
          writeJson('1_Pooling/config.json', {
            word_embedding_dimension: hidden,
            pooling_mode_cls_token: settings.pooling === 'cls',
            pooling_mode_mean_tokens: settings.pooling === 'mean',
            pooling_mode_max_tokens: false,
            pooling_mode_mean_sqrt_len_tokens: false,
          }),
        ]),
  ]);
  return { directory, modelPath, hiddenSize: hidden };
}
