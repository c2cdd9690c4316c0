import { composePersona, longTermProfile, type RenderingSettings } from './compose-persona.js';
import { contentHash } from './content-hash.js';
import { conversationStructureOf, readQuestionCues } from './conversation-structure.js';
import { loadDefaultEncoder } from './default-encoder.js';
import { embedHistoryItems, itemHashOf, maxPieceWordsFor } from './embed-history-items.js';
import { type AttentionSettings, embedUser, resolveAttentionSettings } from './embed-user.js';
import { EmbeddingCache } from './embedding-cache.js';
import type { Encoder } from './encoder.js';
import { type HistoryItem, type HistorySource, readHistoryBatches } from './history-item.js';
import { createMemoryStore } from './memory-store.js';
import type { Attribution, Persona, PersonalizeResult } from './personalize-result.js';
import type { RenderedPersona } from './render-persona.js';
import { restateQuestion } from './restate-question.js';
import { topRows } from './select-evidence.js';
import type { ForgetReport, UserplugStore } from './store.js';
import { createTiktokenCounter, type TiktokenEncoding, type TokenCounter } from './token-counter.js';
import {
  checkTrainedArtifactEncoder,
  loadTrainedArtifact,
  type TrainedArtifact,
  trainedAttentionSettings,
  transformTrainedQuery,
} from './trained-artifact.js';
import { buildUserIndex, type IndexSettings, type UserIndex } from './user-index.js';
import { InvalidArgumentError, InvalidHistoryError, throwIfAborted } from './userplug-error.js';
import type { UserplugWarning } from './userplug-warning.js';
import { normalizeInPlace } from './vector-math.js';

/**
 * How a user's items are scored against a prompt: the research knobs of the embedder (attention, calibration,
 * feedback, query restatement). Every field has a default chosen on PersonaBench community_0; most apps leave
 * them alone.
 */
export interface RetrievalSettings extends AttentionSettings, IndexSettings {
  /**
   * A question prompt is also embedded as the statement its answer would contain ("Which city do I live in?" →
   * "city I live in"): the query vector mixes both, with this weight on the statement. 0 turns it off. Default 0.5.
   */
  restatedQuestionWeight?: number;
}

export type { RenderingSettings };

/** Settings of {@link createPersonalizer}. Every field has a default. */
export interface PersonalizerSettings {
  /** Sentence encoder for items and queries. Default: the embedded offline encoder from `@userplug/encoder-use`. */
  encoder?: Encoder | Promise<Encoder>;
  /** Where items and vectors are kept. Default: a new in-memory store. */
  store?: UserplugStore;
  /** Hard limit on the persona's tokens; 0 turns the persona off. Default 300. */
  budget?: number;
  /**
   * Counts persona tokens as the target model does: a counter (or a promise of one, for a tokenizer that loads),
   * or an OpenAI encoding name. Default `o200k_base`.
   */
  tokenCounter?: TokenCounter | Promise<TokenCounter> | TiktokenEncoding;
  /** Instruction embedded with every prompt, steering which parts of the history matter. Default none. */
  instruction?: string;
  /**
   * What `userplug train` learned (an artifact or its path, loaded on first use): a query transform,
   * instruction embeddings and attention settings (explicit `retrieval` settings win). Its encoder must be this one. Default none.
   */
  trained?: string | TrainedArtifact;
  /** Most attributions returned. Default 10. */
  maxAttributions?: number;
  /** Scoring knobs (attention temperature, BM25 weight, recency, whitening, hubness, feedback, …). Default: tuned defaults. */
  retrieval?: RetrievalSettings;
  /** Persona text knobs (evidence and descriptor limits, diversity). Default: see {@link RenderingSettings}. */
  rendering?: RenderingSettings;
  /** Texts whose embeddings are kept in memory. Default 20,000. */
  embeddingCacheSize?: number;
  /** Items validated, embedded and stored together; each batch is stored all or nothing. Default 256. */
  batchSize?: number;
  /** Longest item text accepted, in characters. Default 200,000. */
  maxItemCharacters?: number;
  /** Users whose query-independent index is kept in memory. Default 64. */
  indexCacheSize?: number;
}

/** Options of a store-changing or reading call. */
export interface CallOptions {
  /** Cancels the call: it rejects with a `UserplugAbortError`; a batch not yet stored is not stored. */
  signal?: AbortSignal;
}

/** What one `ingest` call did. */
export interface IngestResult {
  /** The user. */
  userId: string;
  /** Items read from the history: always `inserted + updated + unchanged`. */
  received: number;
  /** Items new to the store. */
  inserted: number;
  /**
   * Items that replaced a stored item with the same id and different content, and items whose id an earlier item
   * of the same call already used (the later one wins).
   */
  updated: number;
  /** Items equal to the stored ones: nothing was done. */
  unchanged: number;
  /** Texts sent to the encoder. */
  embeddedTexts: number;
  /** Texts whose vectors were reused from the cache or store. */
  reusedTexts: number;
  /** Wall time, in milliseconds. */
  durationMs: number;
}

/** One personalization request. */
export interface PersonalizeRequest {
  /** The user. */
  userId: string;
  /** The user's prompt. */
  prompt: string;
  /** New or changed items to ingest first. Omit when the store already holds the user's history. */
  history?: HistorySource;
  /** Overrides the personalizer's instruction for this call. */
  instruction?: string;
  /** Overrides the personalizer's budget for this call (tokens; 0 for no persona). */
  budget?: number;
  /** Also compute leave-one-out influence for the returned attributions. Default false. */
  influence?: boolean;
  /** Overrides the personalizer's maxAttributions for this call. */
  maxAttributions?: number;
  /** Cancels the call: it rejects with a `UserplugAbortError`; items of `history` not yet stored are not stored. */
  signal?: AbortSignal;
}

/** A reusable personalizer: one encoder, one store, cached indexes. */
export interface Personalizer {
  /**
   * Validates, embeds (no LLM call) and stores history items for a user, batch by batch, each batch all or
   * nothing. Ingests of one user through one personalizer run one after another, so their counts add up.
   */
  ingest(userId: string, history: HistorySource, options?: CallOptions): Promise<IngestResult>;
  /** Builds the query-aware persona for a prompt and the messages to send. */
  personalize(request: PersonalizeRequest): Promise<PersonalizeResult>;
  /** Deletes some of a user's items by id; returns how many existed. */
  deleteItems(userId: string, itemIds: readonly string[], options?: CallOptions): Promise<number>;
  /** Erases everything stored and cached for a user, and verifies nothing is left. */
  forget(userId: string, options?: CallOptions): Promise<ForgetReport>;
  /** The store this personalizer writes to. */
  readonly store: UserplugStore;
  /** The encoder, loaded on first use. */
  getEncoder(): Promise<Encoder>;
  /** Drops caches and closes the store it created; an encoder or store you passed in stays yours to close. */
  dispose(): Promise<void>;
}

interface CachedIndex {
  revision: number;
  index: Promise<UserIndex>;
}

const counters = new Map<TiktokenEncoding, Promise<TokenCounter>>();

function sharedTiktokenCounter(encoding: TiktokenEncoding): Promise<TokenCounter> {
  let counter = counters.get(encoding);
  if (!counter) {
    counter = createTiktokenCounter({ encoding });
    counters.set(encoding, counter);
  }
  return counter;
}

/** Shared by every personalizer that keeps the default cache: equal texts embed once per process. */
const sharedEmbeddingCache = new EmbeddingCache(20_000);

function requireUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
  }
}

function requireBudget(budget: unknown): asserts budget is number {
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 0) {
    throw new InvalidArgumentError(
      'budget',
      `budget must be a whole number of tokens ≥ 0, got ${String(budget)}. Pass e.g. budget: 300, or 0 for no persona.`,
    );
  }
}

/** Creates a personalizer: the reusable, cached form of `personalize`. */
export function createPersonalizer(settings: PersonalizerSettings = {}): Personalizer {
  const store = settings.store ?? createMemoryStore();
  const defaultBudget = settings.budget ?? 300;
  requireBudget(defaultBudget);
  const ownsStore = settings.store === undefined;
  let encoderPromise: Promise<Encoder> | undefined;
  const getEncoder = (): Promise<Encoder> => {
    encoderPromise ??=
      settings.encoder === undefined ? loadDefaultEncoder() : Promise.resolve(settings.encoder);
    return encoderPromise;
  };
  let trainedPromise: Promise<TrainedArtifact | undefined> | undefined;
  const getTrained = (encoder: Encoder): Promise<TrainedArtifact | undefined> => {
    const trained = settings.trained;
    trainedPromise ??= (async () => {
      if (trained === undefined) return undefined;
      const artifact = typeof trained === 'string' ? await loadTrainedArtifact(trained) : trained;
      checkTrainedArtifactEncoder(artifact, encoder, typeof trained === 'string' ? trained : undefined);
      return artifact;
    })();
    return trainedPromise;
  };
  const tokenCounterSetting = settings.tokenCounter ?? 'o200k_base';
  const getTokenCounter = (): Promise<TokenCounter> =>
    typeof tokenCounterSetting === 'string'
      ? sharedTiktokenCounter(tokenCounterSetting)
      : Promise.resolve(tokenCounterSetting);
  const retrieval = settings.retrieval ?? {};
  const rendering = settings.rendering ?? {};
  const cache =
    settings.embeddingCacheSize === undefined
      ? sharedEmbeddingCache
      : new EmbeddingCache(settings.embeddingCacheSize);
  const batchSize = settings.batchSize ?? 256;
  const indexCacheSize = settings.indexCacheSize ?? 64;
  const indexes = new Map<string, CachedIndex>();
  const queryVectors = new Map<string, Float32Array>();
  // The tail of each user's chain of ingests: one user's ingests run one after another, so counts add up.
  const ingestTails = new Map<string, Promise<unknown>>();

  function ingest(userId: string, history: HistorySource, options: CallOptions = {}): Promise<IngestResult> {
    requireUserId(userId);
    const previous = ingestTails.get(userId) ?? Promise.resolve();
    const run = previous.then(
      () => ingestNow(userId, history, options.signal),
      () => ingestNow(userId, history, options.signal),
    );
    const tail = run.catch(() => {});
    ingestTails.set(userId, tail);
    void tail.then(() => {
      if (ingestTails.get(userId) === tail) ingestTails.delete(userId);
    });
    return run;
  }

  async function ingestNow(
    userId: string,
    history: HistorySource,
    signal: AbortSignal | undefined,
  ): Promise<IngestResult> {
    const what = `Ingest for user "${userId}"`;
    throwIfAborted(signal, what);
    const started = performance.now();
    const [encoder, tokenCounter] = await Promise.all([getEncoder(), getTokenCounter()]);
    const result: IngestResult = {
      userId,
      received: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      embeddedTexts: 0,
      reusedTexts: 0,
      durationMs: 0,
    };
    const limits =
      settings.maxItemCharacters === undefined ? {} : { maxItemCharacters: settings.maxItemCharacters };
    // Ids of earlier batches of this call: an item repeating one replaces it and counts as updated.
    const seenBefore = new Set<string>();
    try {
      for await (const batch of readHistoryBatches(history, batchSize, limits)) {
        throwIfAborted(signal, what);
        result.received += batch.length;
        const latest = new Map<string, HistoryItem>();
        for (const item of batch) latest.set(item.id, item);
        const stored = await store.getItemHashes(userId, [...latest.keys()]);
        const changed: HistoryItem[] = [];
        let unchanged = 0;
        let unchangedRepeats = 0;
        for (const item of latest.values()) {
          if (stored.get(item.id) !== itemHashOf(item)) changed.push(item);
          else if (seenBefore.has(item.id)) unchangedRepeats++;
          else unchanged++;
        }
        if (changed.length > 0) {
          const embedded = await embedHistoryItems(changed, {
            encoder,
            cache,
            tokenCounter,
            maxPieceWords: maxPieceWordsFor(encoder),
            findStoredVectors: (hashes) => store.findVectors(userId, encoder.id, hashes),
            ...(signal === undefined ? {} : { signal }),
          });
          // Checked again after the slow part: an aborted batch is never stored.
          throwIfAborted(signal, what);
          const counts = await store.upsertItems(userId, embedded.items);
          result.inserted += counts.inserted;
          result.updated += counts.updated;
          // Another process may have stored an equal item meanwhile: the store's counts decide.
          unchanged += changed.length - counts.inserted - counts.updated;
          result.embeddedTexts += embedded.statistics.embeddedTexts;
          result.reusedTexts += embedded.statistics.reusedTexts;
        }
        result.unchanged += unchanged;
        // Earlier items of this batch replaced by a later one with the same id count as updated too.
        result.updated += unchangedRepeats + (batch.length - latest.size);
        for (const id of latest.keys()) seenBefore.add(id);
      }
    } catch (error) {
      if (InvalidHistoryError.isInstance(error) && result.inserted + result.updated > 0) {
        throw new InvalidHistoryError(
          `${error.message} ${result.inserted + result.updated} items before it (earlier batches) were stored for user "${userId}"; nothing stored before was lost.`,
          {
            ...(error.itemIndex === undefined ? {} : { itemIndex: error.itemIndex }),
            ...(error.itemId === undefined ? {} : { itemId: error.itemId }),
            ...(error.field === undefined ? {} : { field: error.field }),
          },
          { cause: error },
        );
      }
      throw error;
    }
    result.durationMs = performance.now() - started;
    return result;
  }

  async function buildIndex(userId: string, encoder: Encoder): Promise<UserIndex> {
    const items = await store.listItems(userId);
    const index = buildUserIndex(items, encoder.dim, encoder.id, retrieval);
    if (index.phrases.length > 0) {
      const phraseTexts = index.phrases.map((phrase) => phrase.phrase);
      const hashes = phraseTexts.map(contentHash);
      const matrix = new Float32Array(phraseTexts.length * encoder.dim);
      const missing: number[] = [];
      hashes.forEach((hash, row) => {
        const cached = cache.get(encoder.id, hash);
        if (cached) matrix.set(cached.vectors.subarray(0, encoder.dim), row * encoder.dim);
        else missing.push(row);
      });
      if (missing.length > 0) {
        const vectors = await encoder.encode(missing.map((row) => phraseTexts[row]!));
        missing.forEach((row, position) => {
          const vector = normalizeInPlace(Float32Array.from(vectors[position]!));
          matrix.set(vector, row * encoder.dim);
          cache.set(encoder.id, hashes[row]!, { vectors: vector, pieceCount: 1 });
        });
      }
      index.phraseMatrix = matrix;
    }
    return index;
  }

  async function getIndex(userId: string, encoder: Encoder): Promise<{ index: UserIndex; revision: number }> {
    const revision = await store.getRevision(userId);
    const cached = indexes.get(userId);
    if (cached && cached.revision === revision) {
      indexes.delete(userId);
      indexes.set(userId, cached);
      return { index: await cached.index, revision };
    }
    const index = buildIndex(userId, encoder);
    indexes.set(userId, { revision, index });
    index.catch(() => indexes.delete(userId));
    while (indexes.size > indexCacheSize) indexes.delete(indexes.keys().next().value!);
    return { index: await index, revision };
  }

  /** Unit query vectors of the texts, embedded in one encoder call and cached. */
  async function embedQueries(
    encoder: Encoder,
    texts: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> {
    const keys = texts.map((text) => `${encoder.id}\u0000${text}`);
    const missing = texts.filter((_, position) => !queryVectors.has(keys[position]!));
    if (missing.length > 0) {
      const vectors = await (encoder.encodeQueries ?? encoder.encode).call(
        encoder,
        missing,
        signal === undefined ? undefined : { signal },
      );
      missing.forEach((text, position) => {
        queryVectors.set(
          `${encoder.id}\u0000${text}`,
          normalizeInPlace(Float32Array.from(vectors[position]!)),
        );
      });
      while (queryVectors.size > 1_000) queryVectors.delete(queryVectors.keys().next().value!);
    }
    return keys.map((key) => queryVectors.get(key)!);
  }

  /** The prompt's query vector: its embedding, mixed with its restatement's when it is a question. */
  async function embedPrompt(
    encoder: Encoder,
    prompt: string,
    instruction: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    const withInstruction = (text: string) => (instruction ? `${instruction}\n${text}` : text);
    const weight = retrieval.restatedQuestionWeight ?? 0.5;
    const statement = weight > 0 ? restateQuestion(prompt) : undefined;
    if (statement === undefined) return (await embedQueries(encoder, [withInstruction(prompt)], signal))[0]!;
    const [question, restated] = await embedQueries(
      encoder,
      [withInstruction(prompt), withInstruction(statement)],
      signal,
    );
    const mixed = new Float32Array(question!.length);
    for (let column = 0; column < mixed.length; column++)
      mixed[column] = (1 - weight) * question![column]! + weight * restated![column]!;
    return normalizeInPlace(mixed);
  }

  async function personalize(request: PersonalizeRequest): Promise<PersonalizeResult> {
    requireUserId(request.userId);
    if (typeof request.prompt !== 'string') {
      throw new InvalidArgumentError(
        'prompt',
        "prompt must be a string. Pass the user's message as `prompt`.",
      );
    }
    const budget = request.budget ?? defaultBudget;
    requireBudget(budget);
    const { signal } = request;
    const what = `Personalize for user "${request.userId}"`;
    throwIfAborted(signal, what);
    const warnings: UserplugWarning[] = [];
    if (request.history !== undefined)
      await ingest(request.userId, request.history, signal === undefined ? {} : { signal });
    const [encoder, tokenCounter] = await Promise.all([getEncoder(), getTokenCounter()]);
    const { index, revision } = await getIndex(request.userId, encoder);
    throwIfAborted(signal, what);
    const prompt = request.prompt;

    if (index.items.length === 0) {
      warnings.push({
        type: 'empty-history',
        message: `User "${request.userId}" has no history items: the prompt is returned without a persona.`,
        userId: request.userId,
      });
      return {
        prompt,
        messages: [{ role: 'user', content: prompt }],
        persona: emptyPersona(encoder.dim, revision, index),
        usage: {
          personaTokens: 0,
          historyTokens: index.historyTokens,
          compression: 0,
          historyItems: index.items.length,
          budget,
          tokenizer: tokenCounter.id,
        },
        warnings,
      };
    }

    const instruction = request.instruction ?? settings.instruction;
    const queryText = instruction ? `${instruction}\n${prompt}` : prompt;
    const trained = await getTrained(encoder);
    const structure = conversationStructureOf(index.items);
    const cues = readQuestionCues(prompt, structure);
    const embeddedQuery = await embedPrompt(encoder, prompt, instruction, signal);
    throwIfAborted(signal, what);
    const queryVector = trained ? transformTrainedQuery(trained, embeddedQuery, instruction) : embeddedQuery;
    const attention = trained ? trainedAttentionSettings(trained, retrieval) : retrieval;
    const embedding = embedUser(index, queryVector, queryText, attention, { structure, cues });

    // Budget 0 sends no text, but the vectors and attributions still serve local models and apps.
    const composed =
      budget === 0
        ? undefined
        : composePersona(index, structure, embedding, {
            budget,
            tokenCounter,
            maxPieceWords: maxPieceWordsFor(encoder),
            temperature: resolveAttentionSettings(attention).temperature,
            rendering,
          });
    const rendered = composed?.rendered ?? noRenderedPersona;

    const maxAttributions = request.maxAttributions ?? settings.maxAttributions ?? 10;
    const order = topRows(embedding.weights, maxAttributions);
    const attributions: Attribution[] = order.map((row) => ({
      itemId: index.items[row]!.id,
      weight: embedding.weights[row]!,
    }));
    if (request.influence) {
      const raw = Float32Array.from(index.kernel.weightedItemSum(embedding.weights, 0));
      order.forEach((row, position) => {
        const without = Float32Array.from(raw);
        const weight = embedding.weights[row]!;
        const item = index.kernel.itemRow(row);
        for (let column = 0; column < index.dimension; column++) {
          without[column] = without[column]! - weight * item[column]!;
        }
        normalizeInPlace(without);
        let cosine = 0;
        for (let column = 0; column < index.dimension; column++)
          cosine += without[column]! * embedding.personaVector[column]!;
        attributions[position] = { ...attributions[position]!, influence: Math.max(0, 1 - cosine) };
      });
    }

    // Truncation is the budget doing its job; a persona that could quote no evidence at all is worth saying.
    if (
      budget > 0 &&
      rendered.truncated &&
      rendered.evidence.length === 0 &&
      (composed?.candidateCount ?? 0) > 0
    ) {
      warnings.push({
        type: 'persona-truncated',
        message:
          `The ${budget}-token persona budget left no room to quote any of user "${request.userId}"'s history. ` +
          'Raise `budget` so the persona can include evidence.',
      });
    }
    const persona: Persona = {
      text: rendered.text,
      stableText: rendered.stableText,
      dynamicText: rendered.dynamicText,
      vector: embedding.personaVector,
      userVector: index.userVector,
      kindVectors: Object.fromEntries(index.kindVectors),
      descriptors: rendered.descriptors,
      profile: longTermProfile(index, rendering.descriptorLimit ?? 6),
      facts: composed?.facts ?? [],
      evidence: rendered.evidence,
      attributions,
      truncated: rendered.truncated,
      revision,
    };
    return {
      prompt: rendered.text.length > 0 ? `${rendered.text}\n\n${prompt}` : prompt,
      messages:
        rendered.text.length > 0
          ? [
              { role: 'system', content: rendered.text },
              { role: 'user', content: prompt },
            ]
          : [{ role: 'user', content: prompt }],
      persona,
      usage: {
        personaTokens: rendered.tokens,
        historyTokens: index.historyTokens,
        compression: rendered.tokens > 0 ? index.historyTokens / rendered.tokens : 0,
        historyItems: index.items.length,
        budget,
        tokenizer: tokenCounter.id,
      },
      warnings,
    };
  }

  async function forget(userId: string, options: CallOptions = {}): Promise<ForgetReport> {
    requireUserId(userId);
    throwIfAborted(options.signal, `Forget user "${userId}"`);
    const items = await store.listItems(userId);
    const report = await store.forget(userId);
    cache.deleteTexts(items.map((item) => item.textHash));
    indexes.delete(userId);
    return report;
  }

  return {
    store,
    getEncoder,
    ingest,
    personalize,
    forget,
    async deleteItems(userId, itemIds, options = {}) {
      requireUserId(userId);
      throwIfAborted(options.signal, `Delete items of user "${userId}"`);
      return store.deleteItems(userId, itemIds);
    },
    async dispose() {
      indexes.clear();
      queryVectors.clear();
      if (ownsStore) await store.close();
    },
  };
}

const noRenderedPersona: RenderedPersona = {
  text: '',
  stableText: '',
  dynamicText: '',
  tokens: 0,
  descriptors: [],
  evidence: [],
  truncated: false,
};

function emptyPersona(dimension: number, revision: number, index: UserIndex): Persona {
  return {
    text: '',
    stableText: '',
    dynamicText: '',
    vector: new Float32Array(dimension),
    userVector: index.userVector,
    kindVectors: Object.fromEntries(index.kindVectors),
    descriptors: [],
    profile: { descriptors: [], facts: [] },
    facts: [],
    evidence: [],
    attributions: [],
    truncated: false,
    revision,
  };
}
