import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';

const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const configSchema = z.looseObject({
  model_type: z.string().optional(),
  hidden_size: z.number().int().positive().optional(),
  n_embd: z.number().int().positive().optional(),
  d_model: z.number().int().positive().optional(),
  num_hidden_layers: z.number().int().positive().optional(),
  n_layer: z.number().int().positive().optional(),
  num_attention_heads: z.number().int().positive().optional(),
  n_head: z.number().int().positive().optional(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().nullish(),
  vocab_size: z.number().int().positive().optional(),
  max_position_embeddings: z.number().int().positive().optional(),
  n_positions: z.number().int().positive().optional(),
  eos_token_id: tokenIds,
  bos_token_id: tokenIds,
  pad_token_id: tokenIds,
  text_config: z.looseObject({}).optional(),
});

const generationConfigSchema = z.looseObject({
  eos_token_id: tokenIds,
  bos_token_id: tokenIds,
  pad_token_id: tokenIds,
});

/** What userplug needs from a decoder's config.json and generation_config.json. */
export interface DecoderConfig {
  /** `model_type`, such as `qwen2`. */
  modelType: string;
  /** Width of the input embeddings. */
  hiddenSize: number;
  /** Transformer layers. */
  layers: number;
  /** Attention heads. */
  heads: number;
  /** Key/value heads (the KV cache's head count). */
  keyValueHeads: number;
  /** Width of one head. */
  headDim: number;
  /** Vocabulary size. */
  vocabSize: number | undefined;
  /** Longest sequence the model was trained for. */
  maxPositions: number | undefined;
  /** Tokens that end generation (config.json and generation_config.json together). */
  eosTokenIds: number[];
  /** Padding token, when the model names one. */
  padTokenId: number | undefined;
}

function ids(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  if (!required && !existsSync(path)) return {};
  return readJsonFile(path, {
    fix: 'A model directory needs config.json, tokenizer.json and tokenizer_config.json next to onnx/; download the whole model repository, or fix `modelDirectory`.',
  });
}

/** Reads config.json (required) and generation_config.json (optional) of a model directory. */
export async function readDecoderConfig(modelDirectory: string): Promise<DecoderConfig> {
  const configPath = join(modelDirectory, 'config.json');
  const parsed = configSchema.safeParse(await readJson(configPath, true));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FileFormatError(
      configPath,
      `${configPath}: field "${issue.path.join('.')}" ${issue.message}. Use the config.json exported with the model.`,
      { cause: parsed.error },
    );
  }
  // Multimodal configs keep the language model's sizes under text_config.
  const textConfig = configSchema.safeParse(parsed.data.text_config ?? {});
  const config = { ...parsed.data, ...(textConfig.success ? textConfig.data : {}) };
  const generation = generationConfigSchema.safeParse(
    await readJson(join(modelDirectory, 'generation_config.json'), false),
  );
  const generationData = generation.success ? generation.data : {};
  const hiddenSize = config.hidden_size ?? config.n_embd ?? config.d_model;
  const layers = config.num_hidden_layers ?? config.n_layer;
  const heads = config.num_attention_heads ?? config.n_head;
  if (hiddenSize === undefined || layers === undefined || heads === undefined) {
    throw new FileFormatError(
      configPath,
      `${configPath} does not name the hidden size, layer count and head count (hidden_size, num_hidden_layers, num_attention_heads). Use the config.json exported with the model.`,
    );
  }
  const eos = new Set([...ids(config.eos_token_id), ...ids(generationData.eos_token_id)]);
  const pad = ids(generationData.pad_token_id)[0] ?? ids(config.pad_token_id)[0];
  return {
    modelType: config.model_type ?? 'unknown',
    hiddenSize,
    layers,
    heads,
    keyValueHeads: config.num_key_value_heads ?? heads,
    headDim: config.head_dim ?? hiddenSize / heads,
    vocabSize: config.vocab_size,
    maxPositions: config.max_position_embeddings ?? config.n_positions,
    eosTokenIds: [...eos],
    padTokenId: pad,
  };
}
