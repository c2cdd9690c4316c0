import type { Persona, UserplugWarning } from '@userplug/core';
import { InvalidArgumentError } from '@userplug/core';
import type { ChatTokenizer } from './chat-tokenizer.js';
import type { EmbeddingTable } from './embedding-table.js';

/** What a projector gets for one prompt. */
export interface SoftPromptInput {
  /** The query-aware persona from the personalizer. */
  persona: Persona;
  /** The request's instruction, when it has one. */
  instruction: string | undefined;
}

/**
 * Maps a persona to soft tokens: vectors in the LLM's input-embedding space, fed through
 * `inputs_embeds` next to the prompt's token embeddings.
 */
export interface SoftPromptProjector {
  /** Names the projector and its settings, such as `token-embedding:2+2`. */
  readonly id: string;
  /** Things the caller should know (a projector trained for another encoder, …), added to every result. */
  readonly warnings: readonly UserplugWarning[];
  /**
   * Query-independent tokens (Query-as-Anchor's user anchor) from the parts of the persona that do
   * not depend on the prompt. They sit in the cached prefix: equal for every prompt of a user
   * while the history is unchanged.
   */
  profileTokens(persona: Persona): Float32Array[];
  /** Query-aware tokens (Persona-Plug's `[I; P]`), placed right before the prompt. */
  queryTokens(input: SoftPromptInput): Float32Array[];
}

/** What a projector factory gets from the adapter once the model is loaded. */
export interface ProjectorContext {
  /** The LLM's token-embedding table. */
  embeddings: EmbeddingTable;
  /** The LLM's tokenizer. */
  tokenizer: ChatTokenizer;
  /** Width of the LLM's input embeddings. */
  hiddenSize: number;
  /** The personalizer's encoder (whose vectors `persona.vector` and `persona.userVector` are). */
  encoder: { id: string; dim: number };
}

/** Builds a projector for a loaded model. */
export type ProjectorFactory = (
  context: ProjectorContext,
) => SoftPromptProjector | Promise<SoftPromptProjector>;

/** Settings of {@link createTokenEmbeddingProjector}. */
export interface TokenEmbeddingProjectorSettings {
  /** Query-independent soft tokens in the cached prefix; 0 for none. Default 2. */
  profile?: number;
  /**
   * Query-aware soft tokens before the prompt; 0 for none. With 2 or more, the first is the
   * instruction token `I` and the rest split the persona `P` by weight rank. Default 2.
   */
  query?: number;
  /** Text whose embedding is the instruction token when a request has no instruction. Default "personalize the answer for this user". */
  instruction?: string;
}

interface WeightedText {
  text: string;
  weight: number;
}

/** The persona's long-term profile phrases (query-independent, rendered or not). */
function profileDescriptors(persona: Persona): Persona['descriptors'] {
  return persona.profile.descriptors;
}

/** Normalizes a group's weights to sum to `share`. */
function share(items: readonly WeightedText[], total: number): WeightedText[] {
  const sum = items.reduce((accumulated, item) => accumulated + item.weight, 0);
  return sum > 0 ? items.map((item) => ({ text: item.text, weight: (item.weight / sum) * total })) : [];
}

/**
 * The training-free projector: works with any model. Each soft token is the weighted mean of the
 * LLM's own token embeddings of persona text (attention-weighted evidence and scored
 * descriptors), rescaled to the length of a typical token embedding, so the LLM reads it as a
 * blend of the words that describe the user. Profile tokens blend the query-independent
 * descriptors (or profile facts); query tokens blend the evidence and the relevant descriptors.
 */
export function createTokenEmbeddingProjector(
  settings: TokenEmbeddingProjectorSettings = {},
): ProjectorFactory {
  const profileCount = settings.profile ?? 2;
  const queryCount = settings.query ?? 2;
  const defaultInstruction = settings.instruction ?? 'personalize the answer for this user';
  for (const [name, count] of [
    ['softTokens.profile', profileCount],
    ['softTokens.query', queryCount],
  ] as const) {
    if (!Number.isInteger(count) || count < 0) {
      throw new InvalidArgumentError(
        name,
        `${name} must be a whole number ≥ 0, got ${String(count)}. Pass 0 for none.`,
      );
    }
  }
  return ({ embeddings, tokenizer, hiddenSize }) => {
    const cache = new Map<string, Float32Array | null>();
    const textVector = (text: string): Float32Array | undefined => {
      const cached = cache.get(text);
      if (cached !== undefined) return cached ?? undefined;
      const ids = tokenizer
        .encode(text)
        .filter((id) => !tokenizer.specialIds.has(id) && id >= 0 && id < embeddings.vocabSize);
      let vector: Float32Array | null = null;
      if (ids.length > 0) {
        const rows = embeddings.lookup(ids);
        vector = new Float32Array(hiddenSize);
        for (let row = 0; row < ids.length; row++) {
          for (let column = 0; column < hiddenSize; column++) {
            vector[column] = vector[column]! + rows[row * hiddenSize + column]! / ids.length;
          }
        }
      }
      cache.set(text, vector);
      if (cache.size > 4096) cache.delete(cache.keys().next().value!);
      return vector ?? undefined;
    };
    const scaled = (vector: Float32Array): Float32Array => {
      let squared = 0;
      for (const value of vector) squared += value * value;
      const norm = Math.sqrt(squared);
      return norm > 0 ? vector.map((value) => (value / norm) * embeddings.typicalNorm) : vector;
    };
    const blend = (items: readonly WeightedText[]): Float32Array | undefined => {
      const sum = new Float32Array(hiddenSize);
      let used = false;
      for (const item of items) {
        const vector = textVector(item.text);
        if (!vector || !(item.weight > 0)) continue;
        used = true;
        for (let column = 0; column < hiddenSize; column++)
          sum[column] = sum[column]! + item.weight * vector[column]!;
      }
      return used ? scaled(sum) : undefined;
    };
    /** `count` tokens: the items split by weight rank into contiguous groups, each blended. */
    const groups = (items: readonly WeightedText[], count: number): Float32Array[] => {
      if (count <= 0) return [];
      const ranked = items
        .filter((item) => item.weight > 0)
        .sort((left, right) => right.weight - left.weight);
      const overall = blend(ranked);
      if (!overall) return [];
      return Array.from({ length: count }, (_, group) => {
        const start = Math.floor((group * ranked.length) / count);
        const end = Math.floor(((group + 1) * ranked.length) / count);
        return (end > start ? blend(ranked.slice(start, end)) : undefined) ?? overall;
      });
    };
    return {
      id: `token-embedding:${profileCount}+${queryCount}`,
      warnings: [],
      profileTokens(persona) {
        const descriptors = profileDescriptors(persona).map((descriptor) => ({
          text: descriptor.phrase,
          weight: Math.max(descriptor.score, 0.01),
        }));
        if (descriptors.length > 0) return groups(descriptors, profileCount);
        const facts = persona.profile.facts.map((fact) => ({ text: fact, weight: 1 }));
        return groups(facts, profileCount);
      },
      queryTokens({ persona, instruction }) {
        if (queryCount <= 0) return [];
        const profile = new Set(profileDescriptors(persona).map((descriptor) => descriptor.phrase));
        const relevant = persona.descriptors.filter((descriptor) => !profile.has(descriptor.phrase));
        const evidence = share(
          persona.evidence.map((item) => ({ text: item.text, weight: item.weight })),
          1,
        );
        const descriptors = share(
          (relevant.length > 0 ? relevant : persona.descriptors).map((descriptor) => ({
            text: descriptor.phrase,
            weight: Math.max(descriptor.score, 0.01),
          })),
          1,
        );
        const content =
          evidence.length > 0 && descriptors.length > 0
            ? [...share(evidence, 0.5), ...share(descriptors, 0.5)]
            : [...evidence, ...descriptors];
        const personaTokens = groups(content, queryCount === 1 ? 1 : queryCount - 1);
        if (personaTokens.length === 0) return [];
        if (queryCount === 1) return personaTokens;
        const instructionVector =
          textVector(instruction ?? defaultInstruction) ?? textVector(defaultInstruction);
        return instructionVector
          ? [scaled(Float32Array.from(instructionVector)), ...personaTokens]
          : personaTokens;
      },
    };
  };
}
