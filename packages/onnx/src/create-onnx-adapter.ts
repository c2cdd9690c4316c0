import { createHash, randomInt } from 'node:crypto';
import { basename, resolve } from 'node:path';
import {
  type CallOptions,
  createPersonalizer,
  type ForgetReport,
  type GenerateRequest,
  InvalidArgumentError,
  type ModelAdapter,
  type Personalizer,
  ProviderError,
  type StreamPart,
  type UserplugWarning,
} from '@userplug/core';
import {
  checkGenerateRequest,
  generateFromStream,
  modelTimings,
  openCallScope,
  requireWholeNumber,
  unsupportedSettingWarnings,
} from '@userplug/provider-utils';
import type { InferenceSession } from 'onnxruntime-node';
import {
  buildPersonaSequence,
  countPositions,
  type PersonaTextPlacement,
  toSequenceInput,
} from './build-persona-sequence.js';
import { lazyPromise } from './lazy-promise.js';
import { type DecoderCache, loadOnnxDecoder, type OnnxDecoder } from './load-onnx-decoder.js';
import { loadProjectorFile } from './projector-file.js';
import { createSampler } from './sample-token.js';
import {
  createTokenEmbeddingProjector,
  type ProjectorFactory,
  type SoftPromptProjector,
} from './soft-prompt-projector.js';
import { createTextStreamer } from './text-streamer.js';

/** Settings of {@link createOnnxAdapter}. Only `modelDirectory` is required. */
export interface OnnxAdapterSettings {
  /** A Hugging Face–layout ONNX decoder directory (config.json, tokenizer files, onnx/model.onnx). */
  modelDirectory: string;
  /** The decoder graph, relative to `modelDirectory`. Default: `onnx/model.onnx`, else `onnx/decoder_model_merged.onnx`. */
  modelFile?: string;
  /** Where rewritten graphs are cached. Default `$USERPLUG_CACHE_DIR/onnx`, else `~/.cache/userplug/onnx`. */
  cacheDirectory?: string;
  /** onnxruntime intra-op threads. Default: onnxruntime's choice. */
  threads?: number;
  /** More onnxruntime session options. */
  sessionOptions?: InferenceSession.SessionOptions;
  /**
   * Builds personas. Default: a new personalizer with the embedded default encoder, an in-memory
   * store, and persona budgets counted with this model's tokenizer (disposed with the adapter).
   */
  personalizer?: Personalizer;
  /** Persona budget, in this model's tokens; 0 for no persona. Default 300 (or the budget of the `personalizer` you pass). */
  budget?: number;
  /** Soft tokens of the default (training-free) projector: `profile` in the cached prefix, `query` before the prompt. Default `{ profile: 2, query: 2 }`. */
  softTokens?: { profile?: number; query?: number };
  /**
   * Maps personas to soft tokens: a trained projector file's path, or a factory. Default: the
   * training-free token-embedding projector ({@link createTokenEmbeddingProjector}).
   */
  projector?: string | ProjectorFactory;
  /** System prompt; a request's `system` wins. Default: none (the chat template may add its own). */
  system?: string;
  /**
   * Persona text next to the soft tokens: `none`, `stable` (the query-independent part, in the
   * cached system prefix) or `full` (the whole query-aware persona, before the prompt, recomputed
   * for every prompt). Default `none`: the persona enters only as soft tokens.
   */
  personaText?: PersonaTextPlacement;
  /**
   * Users whose persona prefix (its KV cache) is kept in memory; 0 turns reuse off. Default 8. One
   * user costs prefix tokens × layers × 2 × KV heads × head size × 4 bytes (about 24 KB a token for
   * Qwen2.5-0.5B in fp32).
   */
  prefixCacheSize?: number;
  /** Prompt positions run per model call (bounds the logits buffer of long prompts). Default 256. */
  prefillChunkSize?: number;
  /** Default for requests' `maxOutputTokens`. Default 256. */
  maxOutputTokens?: number;
  /** Default for requests' `temperature`. Default 0 (greedy). */
  temperature?: number;
  /** Default for requests' `topP`. Default 1. */
  topP?: number;
  /** Default for requests' `stop`. Default none. */
  stop?: string | readonly string[];
}

/**
 * A local LLM with the user plugged in as soft tokens: the same `generate` and `stream` as the hosted adapters,
 * plus the model itself.
 */
export interface OnnxAdapter extends ModelAdapter {
  /** Loads the model, tokenizer and projector now instead of on first use. */
  load(): Promise<void>;
  /** The loaded decoder (loads it first), for direct use. */
  getDecoder(): Promise<OnnxDecoder>;
  /** Erases a user's history and cached persona prefix. */
  forget(userId: string, options?: CallOptions): Promise<ForgetReport>;
}

interface LoadedState {
  decoder: OnnxDecoder;
  projector: SoftPromptProjector;
  placeholderId: number;
  endIds: Set<number>;
}

interface PrefixEntry {
  fingerprint: string;
  cache: DecoderCache;
  lastLogits: Float32Array | undefined;
}

function fingerprintOf(
  revision: number,
  segments: ReturnType<typeof buildPersonaSequence>['prefix'],
): string {
  const hash = createHash('sha256').update(`${revision}\u0000`);
  for (const segment of segments) {
    if (segment.kind === 'tokens') hash.update(`t${segment.ids.join(',')};`);
    else
      for (const vector of segment.vectors)
        hash.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  }
  return hash.digest('hex');
}

/**
 * A local ONNX LLM adapter: each request's persona enters the model as soft tokens through
 * `inputs_embeds`, and each user's query-independent prefix (template head, system prompt,
 * profile soft tokens) is computed once and its KV cache reused for the user's next prompts.
 */
export function createOnnxAdapter(settings: OnnxAdapterSettings): OnnxAdapter {
  if (typeof settings?.modelDirectory !== 'string' || settings.modelDirectory.length === 0) {
    throw new InvalidArgumentError(
      'modelDirectory',
      'modelDirectory must be the path of a Hugging Face–layout ONNX model directory.',
    );
  }
  const prefixCacheSize = settings.prefixCacheSize ?? 8;
  if (!Number.isInteger(prefixCacheSize) || prefixCacheSize < 0) {
    throw new InvalidArgumentError(
      'prefixCacheSize',
      `prefixCacheSize must be a whole number ≥ 0 (users), got ${String(prefixCacheSize)}. Pass 0 to turn prefix reuse off.`,
    );
  }
  const prefillChunkSize = settings.prefillChunkSize ?? 256;
  requireWholeNumber('prefillChunkSize', prefillChunkSize, { minimum: 1, unit: 'positions' });
  requireWholeNumber('budget', settings.budget, { unit: 'tokens' });
  // The adapter's defaults are checked as a request would be.
  const defaults = checkGenerateRequest({
    userId: 'settings',
    prompt: '',
    ...(settings.maxOutputTokens === undefined ? {} : { maxOutputTokens: settings.maxOutputTokens }),
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    ...(settings.stop === undefined ? {} : { stop: settings.stop }),
  });
  const modelId = basename(resolve(settings.modelDirectory));
  const prefixes = new Map<string, PrefixEntry>();
  const ownsPersonalizer = settings.personalizer === undefined;
  let loading: Promise<LoadedState> | undefined;
  let disposed = false;
  let queue: Promise<void> = Promise.resolve();

  /** Runs model work one call at a time. */
  const acquire = async (): Promise<() => void> => {
    let release!: () => void;
    const previous = queue;
    queue = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    return release;
  };

  const disposedError = () =>
    new ProviderError('This ONNX adapter was disposed. Create a new one.', { provider: 'onnx' });

  const load = (): Promise<LoadedState> => {
    if (disposed) return Promise.reject(disposedError());
    loading ??= (async () => {
      const decoder = await loadOnnxDecoder({
        modelDirectory: settings.modelDirectory,
        ...(settings.modelFile === undefined ? {} : { modelFile: settings.modelFile }),
        ...(settings.cacheDirectory === undefined ? {} : { cacheDirectory: settings.cacheDirectory }),
        ...(settings.threads === undefined ? {} : { threads: settings.threads }),
        ...(settings.sessionOptions === undefined ? {} : { sessionOptions: settings.sessionOptions }),
      });
      try {
        const encoder = await personalizer.getEncoder();
        const factory =
          typeof settings.projector === 'string'
            ? await loadProjectorFile(settings.projector)
            : (settings.projector ?? createTokenEmbeddingProjector(settings.softTokens ?? {}));
        const projector = await factory({
          embeddings: decoder.embeddings,
          tokenizer: decoder.tokenizer,
          hiddenSize: decoder.config.hiddenSize,
          encoder: { id: encoder.id, dim: encoder.dim },
        });
        const endIds = new Set(decoder.config.eosTokenIds);
        if (decoder.tokenizer.eosTokenId !== undefined) endIds.add(decoder.tokenizer.eosTokenId);
        const placeholderId =
          decoder.config.padTokenId ?? decoder.tokenizer.padTokenId ?? [...endIds][0] ?? 0;
        return { decoder, projector, placeholderId, endIds };
      } catch (error) {
        await decoder.dispose();
        throw error;
      }
    })();
    loading.catch(() => {
      loading = undefined;
    });
    return loading;
  };

  // Made now, counting with the model's own tokenizer once the model loads (on first use).
  const personalizer =
    settings.personalizer ??
    createPersonalizer({
      tokenCounter: lazyPromise(async () => (await load()).decoder.tokenizer.tokenCounter),
      ...(settings.budget === undefined ? {} : { budget: settings.budget }),
    });

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const startedAt = performance.now();
    const scope = openCallScope(
      request?.signal,
      `Generation for user "${String(request?.userId)}" with onnx:${modelId}`,
    );
    try {
      const checked = checkGenerateRequest(request);
      const requestedMaxTokens = checked.maxOutputTokens ?? defaults.maxOutputTokens ?? 256;
      const temperature = checked.temperature ?? defaults.temperature ?? 0;
      const topP = checked.topP ?? defaults.topP ?? 1;
      const stops = request.stop === undefined ? defaults.stop : checked.stop;
      const seed = checked.seed ?? randomInt(2 ** 31);
      const warnings: UserplugWarning[] = unsupportedSettingWarnings(
        checked,
        ['topK', 'tools', 'toolChoice', 'responseFormat'],
        `The ONNX model "${modelId}"`,
      );
      scope.throwIfAborted();

      const state = await scope.guard(load());
      const { decoder, projector } = state;
      const budget = checked.budget ?? settings.budget;
      const personalized = await scope.guard(
        personalizer.personalize({
          userId: checked.userId,
          prompt: checked.prompt,
          signal: scope.signal,
          ...(checked.history === undefined ? {} : { history: checked.history }),
          ...(checked.instruction === undefined ? {} : { instruction: checked.instruction }),
          ...(budget === undefined ? {} : { budget }),
        }),
      );
      const { persona } = personalized;
      warnings.unshift(...personalized.warnings, ...projector.warnings);
      if (settings.projector !== undefined && settings.softTokens !== undefined) {
        warnings.push({
          type: 'unsupported-setting',
          setting: 'softTokens',
          message:
            'softTokens configures the default projector only; the given projector decides its own soft tokens.',
        });
      }
      const hidden = decoder.config.hiddenSize;
      const profileVectors = projector.profileTokens(persona);
      const queryVectors = projector.queryTokens({ persona, instruction: checked.instruction });
      for (const vector of [...profileVectors, ...queryVectors]) {
        if (vector.length !== hidden) {
          throw new ProviderError(
            `The projector ${projector.id} returned a ${vector.length}-wide soft token; this model takes ${hidden}-wide input embeddings.`,
            { provider: 'onnx' },
          );
        }
      }
      const sequence = buildPersonaSequence({
        tokenizer: decoder.tokenizer,
        system: checked.system ?? settings.system,
        persona,
        personaText: settings.personaText ?? 'none',
        prompt: checked.prompt,
        messages: checked.messages,
        profileVectors,
        queryVectors,
      });
      warnings.push(...sequence.warnings);

      const prefixPositions = countPositions(sequence.prefix);
      const suffixPositions = countPositions(sequence.suffix);
      const promptPositions = prefixPositions + suffixPositions;
      const maxPositions = decoder.config.maxPositions ?? Number.POSITIVE_INFINITY;
      if (promptPositions >= maxPositions) {
        throw new InvalidArgumentError(
          'prompt',
          `The input takes ${promptPositions} positions (persona, soft tokens, earlier turns and prompt); the model reads at most ${maxPositions}. Shorten the prompt, the earlier turns or the system prompt, or lower the persona budget.`,
        );
      }
      let maxTokens = requestedMaxTokens;
      if (promptPositions + maxTokens > maxPositions) {
        maxTokens = maxPositions - promptPositions;
        warnings.push({
          type: 'max-tokens-capped',
          message: `maxOutputTokens was lowered from ${requestedMaxTokens} to ${maxTokens}: the model reads at most ${maxPositions} positions.`,
        });
      }
      yield { type: 'persona', persona, warnings: [...warnings] };

      const acquiring = acquire();
      let release: () => void;
      try {
        release = await scope.guard(acquiring);
      } catch (error) {
        // Given up while queued: hand the turn on as soon as it comes.
        void acquiring.then((granted) => granted());
        throw error;
      }
      try {
        if (disposed) throw disposedError();
        const fingerprint = fingerprintOf(persona.revision, sequence.prefix);
        const entry = prefixes.get(checked.userId);
        let cache: DecoderCache;
        let lastLogits: Float32Array | undefined;
        let cachedInputTokens = 0;
        let cacheWriteTokens = 0;
        if (entry && entry.fingerprint === fingerprint) {
          prefixes.delete(checked.userId);
          prefixes.set(checked.userId, entry);
          cache = entry.cache;
          lastLogits = entry.lastLogits;
          cachedInputTokens = cache.length;
        } else if (prefixPositions > 0) {
          const input = toSequenceInput(sequence.prefix, decoder.embeddings, state.placeholderId);
          const output = await decoder.forward({
            embeddings: input.embeddings,
            tokenIds: input.tokenIds,
            logits: 'last',
            chunkSize: prefillChunkSize,
          });
          cache = output.cache;
          lastLogits = output.logits;
          if (prefixCacheSize > 0) {
            prefixes.delete(checked.userId);
            prefixes.set(checked.userId, { fingerprint, cache, lastLogits });
            while (prefixes.size > prefixCacheSize) prefixes.delete(prefixes.keys().next().value!);
            cacheWriteTokens = prefixPositions;
          }
        } else {
          cache = decoder.emptyCache();
        }
        if (suffixPositions > 0) {
          scope.throwIfAborted();
          const input = toSequenceInput(sequence.suffix, decoder.embeddings, state.placeholderId);
          const output = await decoder.forward({
            embeddings: input.embeddings,
            tokenIds: input.tokenIds,
            cache,
            logits: 'last',
            chunkSize: prefillChunkSize,
          });
          cache = output.cache;
          lastLogits = output.logits;
        }
        if (!lastLogits) {
          throw new InvalidArgumentError('prompt', 'The input is empty: pass a prompt or a system prompt.');
        }

        const sampler = createSampler({ temperature, topP, seed });
        const streamer = createTextStreamer(decoder.tokenizer, stops);
        let rawFinishReason = 'max-output-tokens';
        let firstTextAt: number | undefined;
        let logits = lastLogits;
        for (;;) {
          scope.throwIfAborted();
          const token = sampler.next(logits);
          firstTextAt ??= performance.now();
          if (state.endIds.has(token)) {
            rawFinishReason = 'end-token';
            break;
          }
          const step = streamer.push(token);
          if (step.delta) yield { type: 'text-delta', text: step.delta };
          if (step.stopped) {
            rawFinishReason = 'stop-sequence';
            break;
          }
          if (streamer.tokenCount >= maxTokens) break;
          const output = await decoder.forward({
            embeddings: decoder.embeddings.lookup([token]),
            tokenIds: [token],
            cache,
            logits: 'last',
          });
          cache = output.cache;
          logits = output.logits;
        }
        const rest = streamer.finish();
        if (rest) yield { type: 'text-delta', text: rest };
        const outputTokens = streamer.tokenCount;
        yield {
          type: 'finish',
          text: streamer.text,
          toolCalls: [],
          finishReason: rawFinishReason === 'max-output-tokens' ? 'length' : 'stop',
          rawFinishReason,
          persona,
          usage: {
            personaTokens: personalized.usage.personaTokens,
            personaTokenizer: personalized.usage.tokenizer,
            budget: personalized.usage.budget,
            inputTokens: promptPositions,
            outputTokens,
            totalTokens: promptPositions + outputTokens,
            cachedInputTokens,
            cacheWriteTokens,
            softTokens: profileVectors.length + queryVectors.length,
            costUsd: 0,
          },
          timings: modelTimings({
            startedAt,
            firstTextAt,
            finishedAt: performance.now(),
            outputTokens,
            streamed: true,
          }),
          warnings,
          response: { id: undefined, modelId },
        };
      } finally {
        release();
      }
    } catch (error) {
      throw scope.failure(error, (cause) => cause);
    } finally {
      scope.close();
    }
  }

  return {
    provider: 'onnx',
    modelId,
    personalizer,
    stream,
    generate: (request) => generateFromStream(stream(request), 'onnx'),
    async load() {
      await load();
    },
    async getDecoder() {
      return (await load()).decoder;
    },
    async forget(userId, options) {
      prefixes.delete(userId);
      const report = await personalizer.forget(userId, options);
      prefixes.delete(userId);
      return report;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const release = await acquire();
      try {
        prefixes.clear();
        const state = await loading?.catch(() => undefined);
        if (state) await state.decoder.dispose();
        if (ownsPersonalizer) await personalizer.dispose();
      } finally {
        release();
      }
    },
  };
}
