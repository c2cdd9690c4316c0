import type { ConversationStructure } from './conversation-structure.js';
import { profileFacts, rankDescriptors, relevantFacts } from './describe-persona.js';
import { pieceSettingsOf } from './embed-history-items.js';
import type { UserEmbedding } from './embed-user.js';
import {
  type EvidenceCandidate,
  type EvidencePiece,
  type PersonaContent,
  type PersonaDescriptor,
  type RenderedPersona,
  renderPersona,
  renderStableOpening,
  type StableOpening,
  wholeHistoryTokens,
} from './render-persona.js';
import { groupNearDuplicates, selectEvidence, topRows } from './select-evidence.js';
import { splitIntoPieces } from './split-into-pieces.js';
import type { TokenCounter } from './token-counter.js';
import type { UserIndex } from './user-index.js';

/** How the persona text is put together from the scored items. Every field has a default. */
export interface RenderingSettings {
  /** Most evidence items quoted. Default: as many as the budget holds. */
  evidenceLimit?: number;
  /** Most descriptors per section. Default 6. */
  descriptorLimit?: number;
  /**
   * Evidence order: trade-off between weight (1) and diversity from the items already chosen (0), by maximal
   * marginal relevance. Default 1: on PersonaBench, diversity pushed answering items out of the persona.
   */
  evidenceDiversity?: number;
  /** Most of the budget the query-independent profile (history facts, interests) may take, 0–1. Default 0.1. */
  profileShare?: number;
  /**
   * Open the persona with the user's long-term interests (descriptors mined from the whole history). Default false:
   * on PersonaBench the tokens they took held more evidence as quotes (persona evidence recall at 300 tokens
   * +0.01 to +0.02 at every noise level, in both views). `persona.profile` carries them either way.
   */
  interests?: boolean;
  /** Items whose attention weight is below this fraction of the best item's are never quoted. Default 0.0001. */
  negligibleWeight?: number;
}

/** What {@link composePersona} needs besides the index and the scores. */
export interface ComposePersonaOptions {
  budget: number;
  tokenCounter: TokenCounter;
  /** Words per piece of the encoder, to cut items as they were embedded. */
  maxPieceWords: number;
  /** The attention temperature, to read weights back as similarities (diversity). */
  temperature: number;
  rendering?: RenderingSettings;
}

/** The persona text and the facts it was built from. */
export interface ComposedPersona {
  rendered: RenderedPersona;
  /** Typed-signal facts (profile, then query-relevant), rendered or not. */
  facts: string[];
  /** Items that were candidates to quote. */
  candidateCount: number;
}

interface QueryIndependent {
  stable: StableOpening;
  wholeHistory: boolean;
}

// Per index (so per history revision): what the persona's opening needs, by budget, tokenizer and settings.
const openings = new WeakMap<UserIndex, Map<string, QueryIndependent>>();
const profiles = new WeakMap<UserIndex, Map<number, LongTermProfile>>();

/** The user's long-term profile: query-independent, whether or not the persona text has room for it. */
export interface LongTermProfile {
  /** Key phrases of two or three words, ranked by cosine to the user vector. */
  descriptors: PersonaDescriptor[];
  /** Facts from typed signals (history size and span, ratings, labels), one line each, untrusted values quoted. */
  facts: string[];
}

/** The long-term profile of a user's index, computed once per history revision. */
export function longTermProfile(index: UserIndex, descriptorLimit: number): LongTermProfile {
  let byLimit = profiles.get(index);
  if (!byLimit) {
    byLimit = new Map();
    profiles.set(index, byLimit);
  }
  let profile = byLimit.get(descriptorLimit);
  if (!profile) {
    profile = {
      descriptors: rankDescriptors(index, index.userVector, descriptorLimit),
      facts: profileFacts(index),
    };
    byLimit.set(descriptorLimit, profile);
  }
  return profile;
}

function candidateOf(
  index: UserIndex,
  structure: ConversationStructure,
  embedding: UserEmbedding | undefined,
  rows: readonly number[],
  maxPieceWords: number,
): EvidenceCandidate {
  const row = rows[0]!;
  const item = index.items[row]!;
  let timestamp = item.timestamp;
  for (const other of rows)
    timestamp = Math.max(
      timestamp ?? Number.NEGATIVE_INFINITY,
      index.items[other]!.timestamp ?? Number.NEGATIVE_INFINITY,
    );
  if (timestamp === Number.NEGATIVE_INFINITY) timestamp = undefined;
  const candidate: EvidenceCandidate = {
    itemId: item.id,
    itemIds: rows.map((other) => index.items[other]!.id),
    text: item.text,
    weight: embedding ? embedding.weights[row]! : 0,
    ...(item.kind === undefined ? {} : { kind: item.kind }),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(item.rating === undefined ? {} : { rating: item.rating }),
    ...(item.label === undefined ? {} : { label: item.label }),
    ...(item.speaker === undefined ? {} : { speaker: item.speaker }),
  };
  // Relative dates resolve against the quoted item's own timestamp, not a duplicate's.
  const dates = item.timestamp === timestamp ? structure.timeExpressions.get(row) : undefined;
  if (dates) candidate.dates = dates;
  if (item.pieceCount > 1 && embedding) {
    const first = index.pieceStart[row]!;
    // Scores are read now (the array may be reused by the next pass); pieces are cut only if the quote needs them.
    const scores = Array.from(embedding.pieceRelevance.subarray(first, first + item.pieceCount));
    let pieces: EvidencePiece[] | undefined;
    Object.defineProperty(candidate, 'pieces', {
      enumerable: true,
      get() {
        if (pieces === undefined) {
          const texts = splitIntoPieces(item.text, pieceSettingsOf(item, maxPieceWords));
          // An item stored by a version that cut it differently is quoted whole: its piece numbers mean other pieces.
          pieces =
            texts.length === scores.length
              ? texts.map((text, piece) => ({ text, score: scores[piece]! }))
              : [];
        }
        return pieces;
      },
    });
  }
  return candidate;
}

function queryIndependent(
  index: UserIndex,
  structure: ConversationStructure,
  options: ComposePersonaOptions,
  descriptorLimit: number,
): QueryIndependent {
  const { budget, tokenCounter } = options;
  const profileShare = options.rendering?.profileShare ?? 0.1;
  const interests = options.rendering?.interests ?? false;
  const key = `${budget}\u0000${tokenCounter.id}\u0000${profileShare}\u0000${descriptorLimit}\u0000${interests}`;
  let byKey = openings.get(index);
  if (!byKey) {
    byKey = new Map();
    openings.set(index, byKey);
  }
  const cached = byKey.get(key);
  if (cached) return cached;
  // Quotes only add to the item texts: a history whose texts alone exceed the budget cannot fit whole.
  let wholeHistory = false;
  if (index.historyTokens < budget) {
    const all = index.items.map((_, row) =>
      candidateOf(index, structure, undefined, [row], options.maxPieceWords),
    );
    wholeHistory = wholeHistoryTokens(all, tokenCounter, structure.selfSpeakers) <= budget;
  }
  const profile = longTermProfile(index, descriptorLimit);
  const content: PersonaContent = {
    selfSpeakers: structure.selfSpeakers,
    profileDescriptors: interests ? profile.descriptors : [],
    profileFacts: profile.facts,
    relevantDescriptors: [],
    relevantFacts: [],
    evidence: [],
    wholeHistory,
  };
  const opening = {
    stable: renderStableOpening(content, { budget, tokenCounter, profileShare }),
    wholeHistory,
  };
  byKey.set(key, opening);
  while (byKey.size > 16) byKey.delete(byKey.keys().next().value!);
  return opening;
}

/**
 * Chooses the evidence for one prompt and renders the persona text: the items by weight (above the negligible
 * floor, in MMR order when diversity is asked for), near-duplicates merged into one quote that credits every id,
 * each with its pieces scored for excerpts and its relative dates resolved. The whole history, when it fits, is
 * quoted whole.
 */
export function composePersona(
  index: UserIndex,
  structure: ConversationStructure,
  embedding: UserEmbedding,
  options: ComposePersonaOptions,
): ComposedPersona {
  const rendering = options.rendering ?? {};
  const descriptorLimit = rendering.descriptorLimit ?? 6;
  const opening = queryIndependent(index, structure, options, descriptorLimit);
  const { weights } = embedding;
  const count = index.items.length;
  let rows: number[];
  if (opening.wholeHistory) {
    rows = topRows(weights, count);
  } else {
    const poolSize = Math.min(
      count,
      rendering.evidenceLimit ?? Number.POSITIVE_INFINITY,
      Math.max(40, Math.ceil(options.budget / 8)),
    );
    const lambda = rendering.evidenceDiversity ?? 1;
    rows =
      lambda >= 1
        ? topRows(weights, poolSize)
        : selectEvidence(weights, index.kernel.itemRow, index.dimension, {
            limit: poolSize,
            poolSize,
            lambda,
            temperature: options.temperature,
          });
    const floor = (weights[rows[0] ?? 0] ?? 0) * (rendering.negligibleWeight ?? 0.0001);
    rows = rows.filter((row) => weights[row]! > 0 && weights[row]! >= floor);
  }
  const groups = groupNearDuplicates(
    rows,
    (row) => ({ text: index.items[row]!.text, speaker: index.items[row]!.speaker }),
    index.kernel.itemRow,
  );
  const evidence = groups.map((group) =>
    candidateOf(index, structure, embedding, group, options.maxPieceWords),
  );
  const relevantFactList = opening.wholeHistory ? [] : relevantFacts(index, weights);
  const content: PersonaContent = {
    selfSpeakers: structure.selfSpeakers,
    profileDescriptors: [],
    profileFacts: [],
    relevantDescriptors: opening.wholeHistory
      ? []
      : rankDescriptors(index, embedding.personaVector, descriptorLimit),
    relevantFacts: relevantFactList,
    evidence,
    wholeHistory: opening.wholeHistory,
  };
  const rendered = renderPersona(
    content,
    { budget: options.budget, tokenCounter: options.tokenCounter },
    opening.stable,
  );
  return {
    rendered,
    facts: [...longTermProfile(index, descriptorLimit).facts, ...relevantFactList.map((fact) => fact.text)],
    candidateCount: evidence.length,
  };
}
