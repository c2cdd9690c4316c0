import {
  createTiktokenCounter,
  type EncodeOptions,
  type Encoder,
  InvalidArgumentError,
  type TokenCounter,
} from '@userplug/core';
import { malformedResponse, openCallScope, requireWholeNumber } from '@userplug/provider-utils';
import type OpenAI from 'openai';
import { z } from 'zod';
import { createOpenAIClientLoader, type OpenAIConnectionSettings } from './create-openai-client-loader.js';
import { normalizeOpenAIError, openAIIdentity } from './normalize-openai-error.js';

/** Settings of {@link createOpenAIEncoder}. All optional. */
export interface OpenAIEncoderSettings extends OpenAIConnectionSettings {
  /** Embedding model id. Default `text-embedding-3-small`. */
  model?: string;
  /** Vector length, for models that can shorten their vectors (`text-embedding-3-*`). Default: the model's full length (1,536 for small, 3,072 for large); required for a model not listed. */
  dimensions?: number;
  /** Most texts sent in one request. Default 2,048 (the API's limit). */
  maxInputsPerRequest?: number;
  /** Most tokens sent in one request, summed over its texts. Default 300,000 (the API's limit). */
  maxTokensPerRequest?: number;
}

/** Full vector lengths of OpenAI's embedding models, and whether they take `dimensions`. */
const embeddingModels: Readonly<Record<string, { dimensions: number; shortens: boolean }>> = {
  'text-embedding-3-small': { dimensions: 1536, shortens: true },
  'text-embedding-3-large': { dimensions: 3072, shortens: true },
  'text-embedding-ada-002': { dimensions: 1536, shortens: false },
};

/** Tokens an OpenAI embedding model reads from one text. */
const maxInputTokens = 8191;

const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number(), embedding: z.union([z.string(), z.array(z.number())]) })),
});

function vectorOf(embedding: string | number[], dimensions: number): Float32Array {
  let vector: Float32Array;
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    // Copied into its own buffer: a Float32Array view needs 4-byte alignment.
    vector = new Float32Array(new Uint8Array(bytes).buffer, 0, bytes.length / 4);
  } else {
    vector = Float32Array.from(embedding);
  }
  if (vector.length !== dimensions) {
    throw malformedResponse(
      openAIIdentity,
      'Embeddings',
      `a ${vector.length}-dimensional vector where ${dimensions} were asked for`,
    );
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! / norm;
  return vector;
}

/** Splits texts into runs that respect both request limits, in order. */
function batchesOf(tokens: readonly number[], maxInputs: number, maxTokens: number): Array<[number, number]> {
  const batches: Array<[number, number]> = [];
  let start = 0;
  let sum = 0;
  tokens.forEach((count, index) => {
    if (index > start && (index - start >= maxInputs || sum + count > maxTokens)) {
      batches.push([start, index]);
      start = index;
      sum = 0;
    }
    sum += count;
  });
  if (start < tokens.length) batches.push([start, tokens.length]);
  return batches;
}

/**
 * OpenAI's embedding models as a userplug {@link Encoder}: texts go in batches within the API's limits (inputs
 * and tokens per request), texts longer than the model reads are cut to its 8,191 tokens, and the SDK alone
 * retries (`maxRetries`). The id names the model and the vector length, so vectors of other settings are never mixed.
 */
export function createOpenAIEncoder(settings: OpenAIEncoderSettings = {}): Encoder {
  const model = settings.model ?? 'text-embedding-3-small';
  if (typeof model !== 'string' || model === '') {
    throw new InvalidArgumentError(
      'model',
      'model must be an OpenAI embedding model id, such as "text-embedding-3-small".',
    );
  }
  requireWholeNumber('dimensions', settings.dimensions, { minimum: 1 });
  requireWholeNumber('maxInputsPerRequest', settings.maxInputsPerRequest, { minimum: 1 });
  requireWholeNumber('maxTokensPerRequest', settings.maxTokensPerRequest, {
    minimum: maxInputTokens,
    unit: 'tokens',
  });
  const known = embeddingModels[model];
  const knownDimensions = settings.dimensions ?? known?.dimensions;
  if (knownDimensions === undefined) {
    throw new InvalidArgumentError(
      'dimensions',
      `The vector length of "${model}" is not known. Pass \`dimensions\` (the length its vectors have).`,
    );
  }
  const dimensions: number = knownDimensions;
  if (known && settings.dimensions !== undefined && (!known.shortens || dimensions > known.dimensions)) {
    throw new InvalidArgumentError(
      'dimensions',
      known.shortens
        ? `"${model}" makes vectors of at most ${known.dimensions} dimensions; pass \`dimensions\` ≤ ${known.dimensions}.`
        : `"${model}" cannot shorten its vectors; leave \`dimensions\` out (it makes ${known.dimensions}).`,
    );
  }
  const connect = createOpenAIClientLoader(settings);
  const maxInputs = settings.maxInputsPerRequest ?? 2048;
  const maxTokens = settings.maxTokensPerRequest ?? 300_000;
  const id = `openai:${model}:${dimensions}`;
  // The text-embedding models read cl100k_base tokens.
  let counter: Promise<TokenCounter> | undefined;

  async function embedBatch(client: OpenAI, texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
    const response: unknown = await client.embeddings.create(
      {
        model,
        input: texts,
        encoding_format: 'base64',
        ...(settings.dimensions === undefined ? {} : { dimensions }),
      },
      { signal },
    );
    const parsed = embeddingsSchema.safeParse(response);
    if (!parsed.success) {
      throw malformedResponse(
        openAIIdentity,
        'Embeddings',
        parsed.error.issues[0]?.message ?? 'unexpected body',
        parsed.error,
      );
    }
    const vectors = new Array<Float32Array | undefined>(texts.length);
    for (const item of parsed.data.data) vectors[item.index] = vectorOf(item.embedding, dimensions);
    const missing = vectors.indexOf(undefined);
    if (missing >= 0 || parsed.data.data.length !== texts.length) {
      throw malformedResponse(
        openAIIdentity,
        'Embeddings',
        `${parsed.data.data.length} vectors for ${texts.length} texts${missing >= 0 ? `, none for text ${missing}` : ''}`,
      );
    }
    return vectors as Float32Array[];
  }

  async function encode(texts: readonly string[], options: EncodeOptions = {}): Promise<Float32Array[]> {
    const scope = openCallScope(options.signal, `Embedding ${texts.length} texts with ${id}`);
    let client: OpenAI | undefined;
    try {
      if (texts.length === 0) return [];
      client = connect();
      counter ??= createTiktokenCounter({ encoding: 'cl100k_base' });
      const tokenCounter = await scope.guard(counter);
      const tokens: number[] = [];
      // The API refuses an empty input; a space embeds as "nothing said".
      const inputs = texts.map((text) => {
        let input = text === '' ? ' ' : text;
        let count = tokenCounter.count(input);
        if (count > maxInputTokens) {
          input = tokenCounter.truncate(input, maxInputTokens);
          count = tokenCounter.count(input);
        }
        tokens.push(count);
        return input;
      });
      const vectors: Float32Array[] = [];
      for (const [start, end] of batchesOf(tokens, maxInputs, maxTokens)) {
        vectors.push(...(await scope.guard(embedBatch(client, inputs.slice(start, end), scope.signal))));
      }
      return vectors;
    } catch (error) {
      const maxRetries = client?.maxRetries ?? 0;
      throw scope.failure(error, (cause) => normalizeOpenAIError(cause, { modelId: model, maxRetries }));
    } finally {
      scope.close();
    }
  }

  return { id, dim: dimensions, maxInputTokens, encode, dispose() {} };
}
