import { createHash, randomInt } from 'node:crypto';
import {
  createPersonalizer,
  type ForgetReport,
  type HistorySource,
  InvalidArgumentError,
  type Persona,
  type Personalizer,
  ProviderError,
} from '@userplug/core';
import type { PersonalizeWarning } from '@userplug/core/internal';
import type { InferenceSession } from 'onnxruntime-node';
import {
  buildPersonaSequence,
  countPositions,
  type PersonaTextPlacement,
  toSequenceInput,
} from './build-persona-sequence.js';
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
  /** Soft tokens of the default (training-free) projector: `profile` in the cached prefix, `query` before the prompt. Default `{ profile: 2, query: 2 }`. */
  softTokens?: { profile?: number; query?: number };
  /**
   * Maps personas to soft tokens: a trained projector file's path, or a factory. Default: the
   * training-free token-embedding projector ({@link createTokenEmbeddingProjector}).
   */
  projector?: string | ProjectorFactory;
  /** System prompt. Default: none (the chat template may add its own). */
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
  /** Default for requests' `maxTokens`. Default 256. */
  maxTokens?: number;
  /** Default for requests' `temperature`. Default 0 (greedy). */
  temperature?: number;
  /** Default for requests' `topP`. Default 1. */
  topP?: number;
  /** Default for requests' `stop`. Default none. */
  stop?: string | readonly string[];
}

/** One generation request: the same shape as the hosted adapters'. */
export interface OnnxGenerateRequest {
  /** The user. */
  userId: string;
  /** The user's prompt. */
  prompt: string;
  /** New or changed history items to ingest first. */
  history?: HistorySource;
  /** Steers which parts of the history matter (embedded with the prompt), and the instruction token. */
  instruction?: string;
  /** Overrides the adapter's system prompt. */
  system?: string;
  /** Most tokens to generate. Default: the adapter's, 256. */
  maxTokens?: number;
  /** 0 for greedy; higher samples more freely. Default: the adapter's, 0. */
  temperature?: number;
  /** Nucleus sampling mass, (0, 1]. Default: the adapter's, 1. */
  topP?: number;
  /** Seed of the sampler: equal seeds give equal outputs. Default: random. */
  seed?: number;
  /** Generation ends before the first of these strings; it is not part of the text. */
  stop?: string | readonly string[];
  /** Stops generation; the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Why generation ended. */
export type OnnxFinishReason = 'stop' | 'length';

/** Token and time accounting of one generation. */
export interface OnnxUsage {
  /** Input positions: prompt tokens and soft tokens. */
  promptTokens: number;
  /** Soft tokens among them. */
  softTokens: number;
  /** Input positions reused from the persona-prefix cache (not computed). */
  cachedTokens: number;
  /** Generated tokens. */
  completionTokens: number;
  /** promptTokens + completionTokens. */
  totalTokens: number;
  /** Tokens of the persona text (by the personalizer's counter), whether or not it was placed. */
  personaTokens: number;
  /** From the call to the first generated token (persona building included), milliseconds. */
  timeToFirstTokenMs: number;
  /** Generated tokens after the first, per second between the first and the last. */
  tokensPerSecond: number;
  /** The whole call, milliseconds. */
  durationMs: number;
}

/** What `generate` returns. */
export interface OnnxGenerateResult {
  /** The generated text (without a stop sequence). */
  text: string;
  /** `stop`: an end token or a stop sequence; `length`: maxTokens or the context ran out. */
  finishReason: OnnxFinishReason;
  /** The persona the soft tokens came from. */
  persona: Persona;
  /** Token and time accounting. */
  usage: OnnxUsage;
  /** Non-fatal problems. */
  warnings: PersonalizeWarning[];
}

/** A part of a streamed generation, in order: `persona`, then `text-delta`s, then `finish`. */
export type OnnxStreamPart =
  | { type: 'persona'; persona: Persona; warnings: PersonalizeWarning[] }
  | { type: 'text-delta'; text: string }
  | {
      type: 'finish';
      text: string;
      finishReason: OnnxFinishReason;
      usage: OnnxUsage;
      warnings: PersonalizeWarning[];
    };

/** A local LLM with the user plugged in as soft tokens. */
export interface OnnxAdapter {
  /** Generates a whole answer. */
  generate(request: OnnxGenerateRequest): Promise<OnnxGenerateResult>;
  /** Streams an answer; breaking out of the loop stops generation. */
  stream(request: OnnxGenerateRequest): AsyncIterable<OnnxStreamPart>;
  /** Loads the model, tokenizer, personalizer and projector now instead of on first use. */
  load(): Promise<void>;
  /** The loaded decoder (loads it first), for direct use. */
  getDecoder(): Promise<OnnxDecoder>;
  /** The personalizer (given, or the one the adapter made). */
  getPersonalizer(): Promise<Personalizer>;
  /** Erases a user's history and cached persona prefix. */
  forget(userId: string): Promise<ForgetReport>;
  /** Frees the model; the personalizer too when the adapter made it. Waits for a running generation. */
  dispose(): Promise<void>;
}

interface LoadedState {
  decoder: OnnxDecoder;
  personalizer: Personalizer;
  projector: SoftPromptProjector;
  placeholderId: number;
  endIds: Set<number>;
}

interface PrefixEntry {
  fingerprint: string;
  cache: DecoderCache;
  lastLogits: Float32Array | undefined;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `${name} must be a whole number ≥ 1, got ${String(value)}.`);
  }
}

function stopList(value: string | readonly string[] | undefined): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
  for (const stop of list) {
    if (typeof stop !== 'string' || stop.length === 0) {
      throw new InvalidArgumentError('stop', 'Every stop sequence must be a non-empty string.');
    }
  }
  return list;
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
  requirePositiveInteger('prefillChunkSize', prefillChunkSize);
  const defaultStops = stopList(settings.stop);
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

  const load = (): Promise<LoadedState> => {
    if (disposed) {
      return Promise.reject(
        new ProviderError('This ONNX adapter was disposed. Create a new one.', { provider: 'onnx' }),
      );
    }
    loading ??= (async () => {
      const decoder = await loadOnnxDecoder({
        modelDirectory: settings.modelDirectory,
        ...(settings.modelFile === undefined ? {} : { modelFile: settings.modelFile }),
        ...(settings.cacheDirectory === undefined ? {} : { cacheDirectory: settings.cacheDirectory }),
        ...(settings.threads === undefined ? {} : { threads: settings.threads }),
        ...(settings.sessionOptions === undefined ? {} : { sessionOptions: settings.sessionOptions }),
      });
      try {
        const personalizer =
          settings.personalizer ?? createPersonalizer({ tokenCounter: decoder.tokenizer.tokenCounter });
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
        return { decoder, personalizer, projector, placeholderId, endIds };
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

  async function* stream(request: OnnxGenerateRequest): AsyncGenerator<OnnxStreamPart> {
    const started = performance.now();
    if (typeof request?.userId !== 'string' || request.userId.length === 0) {
      throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
    }
    if (typeof request.prompt !== 'string') {
      throw new InvalidArgumentError(
        'prompt',
        "prompt must be a string. Pass the user's message as `prompt`.",
      );
    }
    const requestedMaxTokens = request.maxTokens ?? settings.maxTokens ?? 256;
    requirePositiveInteger('maxTokens', requestedMaxTokens);
    const temperature = request.temperature ?? settings.temperature ?? 0;
    const topP = request.topP ?? settings.topP ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new InvalidArgumentError(
        'temperature',
        `temperature must be a number ≥ 0, got ${String(temperature)}.`,
      );
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new InvalidArgumentError('topP', `topP must be in (0, 1], got ${String(topP)}.`);
    }
    const stops = request.stop === undefined ? defaultStops : stopList(request.stop);
    const seed = request.seed ?? randomInt(2 ** 31);
    request.signal?.throwIfAborted();

    const state = await load();
    const { decoder, personalizer, projector } = state;
    const personalized = await personalizer.personalize({
      userId: request.userId,
      prompt: request.prompt,
      ...(request.history === undefined ? {} : { history: request.history }),
      ...(request.instruction === undefined ? {} : { instruction: request.instruction }),
    });
    const { persona } = personalized;
    const warnings: PersonalizeWarning[] = [...personalized.warnings, ...projector.warnings];
    if (settings.projector !== undefined && settings.softTokens !== undefined) {
      warnings.push({
        type: 'soft-tokens-ignored',
        message:
          'softTokens configures the default projector only; the given projector decides its own soft tokens.',
      });
    }
    const hidden = decoder.config.hiddenSize;
    const profileVectors = projector.profileTokens(persona);
    const queryVectors = projector.queryTokens({ persona, instruction: request.instruction });
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
      system: request.system ?? settings.system,
      persona,
      personaText: settings.personaText ?? 'none',
      prompt: request.prompt,
      profileVectors,
      queryVectors,
    });
    warnings.push(...sequence.warnings);
    yield { type: 'persona', persona, warnings: [...warnings] };

    const prefixPositions = countPositions(sequence.prefix);
    const suffixPositions = countPositions(sequence.suffix);
    const promptPositions = prefixPositions + suffixPositions;
    const maxPositions = decoder.config.maxPositions ?? Number.POSITIVE_INFINITY;
    if (promptPositions >= maxPositions) {
      throw new InvalidArgumentError(
        'prompt',
        `The input takes ${promptPositions} positions (persona, soft tokens and prompt); the model reads at most ${maxPositions}. Shorten the prompt or the system prompt, or lower the persona budget.`,
      );
    }
    let maxTokens = requestedMaxTokens;
    if (promptPositions + maxTokens > maxPositions) {
      maxTokens = maxPositions - promptPositions;
      warnings.push({
        type: 'max-tokens-capped',
        message: `maxTokens was lowered from ${requestedMaxTokens} to ${maxTokens}: the model reads at most ${maxPositions} positions.`,
      });
    }

    const release = await acquire();
    try {
      if (disposed)
        throw new ProviderError('This ONNX adapter was disposed. Create a new one.', { provider: 'onnx' });
      const fingerprint = fingerprintOf(persona.revision, sequence.prefix);
      const entry = prefixes.get(request.userId);
      let cache: DecoderCache;
      let lastLogits: Float32Array | undefined;
      let cachedTokens = 0;
      if (entry && entry.fingerprint === fingerprint) {
        prefixes.delete(request.userId);
        prefixes.set(request.userId, entry);
        cache = entry.cache;
        lastLogits = entry.lastLogits;
        cachedTokens = cache.length;
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
          prefixes.delete(request.userId);
          prefixes.set(request.userId, { fingerprint, cache, lastLogits });
          while (prefixes.size > prefixCacheSize) prefixes.delete(prefixes.keys().next().value!);
        }
      } else {
        cache = decoder.emptyCache();
      }
      if (suffixPositions > 0) {
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
      let finishReason: OnnxFinishReason = 'length';
      let firstTokenAt: number | undefined;
      let logits = lastLogits;
      for (;;) {
        request.signal?.throwIfAborted();
        const token = sampler.next(logits);
        firstTokenAt ??= performance.now();
        if (state.endIds.has(token)) {
          finishReason = 'stop';
          break;
        }
        const step = streamer.push(token);
        if (step.delta) yield { type: 'text-delta', text: step.delta };
        if (step.stopped) {
          finishReason = 'stop';
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
      const finished = performance.now();
      const completionTokens = streamer.tokenCount;
      const decodeSeconds = firstTokenAt === undefined ? 0 : (finished - firstTokenAt) / 1000;
      const usage: OnnxUsage = {
        promptTokens: promptPositions,
        softTokens: profileVectors.length + queryVectors.length,
        cachedTokens,
        completionTokens,
        totalTokens: promptPositions + completionTokens,
        personaTokens: personalized.usage.personaTokens,
        timeToFirstTokenMs: (firstTokenAt ?? finished) - started,
        tokensPerSecond:
          completionTokens > 1 && decodeSeconds > 0 ? (completionTokens - 1) / decodeSeconds : 0,
        durationMs: finished - started,
      };
      yield { type: 'finish', text: streamer.text, finishReason, usage, warnings };
    } finally {
      release();
    }
  }

  return {
    stream,
    async generate(request) {
      let persona: Persona | undefined;
      for await (const part of stream(request)) {
        if (part.type === 'persona') persona = part.persona;
        if (part.type === 'finish') {
          return {
            text: part.text,
            finishReason: part.finishReason,
            persona: persona!,
            usage: part.usage,
            warnings: part.warnings,
          };
        }
      }
      throw new ProviderError('Generation ended without a result.', { provider: 'onnx' });
    },
    async load() {
      await load();
    },
    async getDecoder() {
      return (await load()).decoder;
    },
    async getPersonalizer() {
      return (await load()).personalizer;
    },
    async forget(userId) {
      prefixes.delete(userId);
      const report = await (await load()).personalizer.forget(userId);
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
        if (state) {
          await state.decoder.dispose();
          if (ownsPersonalizer) await state.personalizer.dispose();
        }
      } finally {
        release();
      }
    },
  };
}
