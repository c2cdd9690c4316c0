import { randomUUID } from 'node:crypto';
import { type ConversationMessage, type Persona, ProviderError, type UserplugWarning } from '@userplug/core';
import type { ChatTokenizer, TemplateMessage } from './chat-tokenizer.js';
import type { EmbeddingTable } from './embedding-table.js';

/** Where the persona's text goes: nowhere, its query-independent part in the cached system prefix, or all of it before the prompt. */
export type PersonaTextPlacement = 'none' | 'stable' | 'full';

/** A run of positions: prompt tokens, or soft tokens. */
export type SequenceSegment =
  | { kind: 'tokens'; ids: number[] }
  | { kind: 'soft'; vectors: Float32Array[]; role: 'profile' | 'query' };

/** A model input split at the cache boundary. */
export interface PersonaSequence {
  /** Query-independent positions: the chat template's head, the system prompt, profile soft tokens. */
  prefix: SequenceSegment[];
  /** Query-dependent positions: earlier turns, query soft tokens, the prompt, the assistant's turn opener. */
  suffix: SequenceSegment[];
  /** The rendered chat text with markers where soft tokens go (for debugging). */
  renderedText: string;
  /** Non-fatal problems. */
  warnings: UserplugWarning[];
}

/** Embeddings and ids of segments, ready for the decoder. */
export interface SequenceInput {
  /** `positions × hiddenSize` input embeddings. */
  embeddings: Float32Array;
  /** An id per position; soft positions get `placeholderId`. */
  tokenIds: number[];
  /** Positions. */
  positions: number;
  /** Soft positions among them. */
  softPositions: number;
}

/** What the sequence is built from. */
export interface PersonaSequenceParts {
  tokenizer: ChatTokenizer;
  /** System prompt, or undefined for none (the template may add its default). */
  system: string | undefined;
  persona: Persona;
  personaText: PersonaTextPlacement;
  prompt: string;
  /** Earlier turns, oldest first, between the system message and the prompt. Default none. */
  messages?: readonly ConversationMessage[];
  profileVectors: Float32Array[];
  queryVectors: Float32Array[];
}

const closeTag = '</user_persona>';

function tokensOf(tokenizer: ChatTokenizer, text: string): SequenceSegment[] {
  const ids = tokenizer.encode(text);
  return ids.length > 0 ? [{ kind: 'tokens', ids }] : [];
}

/**
 * Lays out one request as Query-as-Anchor does: everything that does not depend on the prompt
 * first (template head, system prompt, profile soft tokens, the stable persona text), then the
 * query soft tokens and the prompt at the end. The chat template is rendered with one-off markers
 * where soft tokens go; the text between markers is tokenized piece by piece.
 */
export function buildPersonaSequence(parts: PersonaSequenceParts): PersonaSequence {
  const { tokenizer, persona } = parts;
  const warnings: UserplugWarning[] = [];
  // A fresh nonce: history text cannot contain (and so cannot forge) a marker.
  const nonce = randomUUID();
  const profileMarker = `[[userplug-profile-${nonce}]]`;
  const queryMarker = `[[userplug-query-${nonce}]]`;
  const turnsMarker = `[[userplug-turns-${nonce}]]`;
  const systemParts: string[] = [];
  if (parts.system) systemParts.push(parts.system);
  if (parts.profileVectors.length > 0) systemParts.push(profileMarker);
  if (parts.personaText === 'stable' && persona.stableText)
    systemParts.push(`${persona.stableText}${closeTag}`);
  const personaBlock = parts.personaText === 'full' && persona.text ? `${persona.text}\n\n` : '';
  const userContent = `${queryMarker}${personaBlock}${parts.prompt}`;
  // Earlier turns follow the cache boundary, so a user's prefix stays the same from one turn of a chat to the next.
  const turns = (parts.messages ?? []).map((message, index) =>
    index === 0 ? { role: message.role, content: `${turnsMarker}${message.content}` } : message,
  );
  const conversation: TemplateMessage[] = [...turns, { role: 'user', content: userContent }];
  let rendered: string;
  if (systemParts.length === 0) {
    rendered = tokenizer.renderChat(conversation);
  } else {
    const systemText = systemParts.join('\n\n');
    try {
      rendered = tokenizer.renderChat([{ role: 'system', content: systemText }, ...conversation]);
    } catch (error) {
      // Some templates (Gemma's) refuse a system role: the system text opens the first user turn instead.
      warnings.push({
        type: 'compatibility',
        feature: 'system-role',
        message: `The chat template refused a system message (${(error as Error).message}); the system text and profile soft tokens open the user turn instead.`,
      });
      const [first, ...rest] = conversation;
      rendered = tokenizer.renderChat(
        first!.role === 'user'
          ? [{ role: 'user', content: `${systemText}\n\n${first!.content}` }, ...rest]
          : [{ role: 'user', content: systemText }, ...conversation],
      );
    }
  }
  if (!tokenizer.hasChatTemplate) {
    warnings.push({
      type: 'compatibility',
      feature: 'chat-template',
      message:
        'The tokenizer has no chat template: messages were joined with blank lines. Use an instruction-tuned model, or add chat_template to tokenizer_config.json.',
    });
  }
  const queryAt = rendered.indexOf(queryMarker);
  const profileAt = parts.profileVectors.length > 0 ? rendered.indexOf(profileMarker) : -1;
  const turnsAt = turns.length > 0 ? rendered.indexOf(turnsMarker) : -1;
  if (
    queryAt < 0 ||
    (parts.profileVectors.length > 0 && profileAt < 0) ||
    (turns.length > 0 && turnsAt < 0)
  ) {
    throw new ProviderError(
      'The chat template dropped part of the message content, so soft tokens cannot be placed. Use a model whose chat template renders system and user messages verbatim.',
      { provider: 'onnx' },
    );
  }
  const marks: Array<{
    at: number;
    length: number;
    vectors: Float32Array[];
    role: 'profile' | 'query' | 'turns';
  }> = [
    { at: queryAt, length: queryMarker.length, vectors: parts.queryVectors, role: 'query' },
    ...(profileAt >= 0
      ? [
          {
            at: profileAt,
            length: profileMarker.length,
            vectors: parts.profileVectors,
            role: 'profile' as const,
          },
        ]
      : []),
    ...(turnsAt >= 0
      ? [{ at: turnsAt, length: turnsMarker.length, vectors: [], role: 'turns' as const }]
      : []),
  ];
  marks.sort((left, right) => left.at - right.at);
  const prefix: SequenceSegment[] = [];
  const suffix: SequenceSegment[] = [];
  let cursor = 0;
  let target = prefix;
  for (const mark of marks) {
    target.push(...tokensOf(tokenizer, rendered.slice(cursor, mark.at)));
    // The cache boundary is the first earlier turn, else the query marker: from there on, the input changes per prompt.
    if (mark.role !== 'profile') target = suffix;
    if (mark.role !== 'turns' && mark.vectors.length > 0)
      target.push({ kind: 'soft', vectors: mark.vectors, role: mark.role });
    cursor = mark.at + mark.length;
  }
  target.push(...tokensOf(tokenizer, rendered.slice(cursor)));
  return { prefix, suffix, renderedText: rendered, warnings };
}

/** Positions of segments. */
export function countPositions(segments: readonly SequenceSegment[]): number {
  return segments.reduce(
    (sum, segment) => sum + (segment.kind === 'tokens' ? segment.ids.length : segment.vectors.length),
    0,
  );
}

/** Looks up prompt tokens in the table and stacks them with the soft tokens, in order. */
export function toSequenceInput(
  segments: readonly SequenceSegment[],
  embeddings: EmbeddingTable,
  placeholderId: number,
): SequenceInput {
  const hidden = embeddings.hiddenSize;
  const positions = countPositions(segments);
  const values = new Float32Array(positions * hidden);
  const tokenIds: number[] = [];
  let softPositions = 0;
  let offset = 0;
  for (const segment of segments) {
    if (segment.kind === 'tokens') {
      values.set(embeddings.lookup(segment.ids), offset);
      tokenIds.push(...segment.ids);
      offset += segment.ids.length * hidden;
    } else {
      for (const vector of segment.vectors) {
        values.set(vector, offset);
        tokenIds.push(placeholderId);
        offset += hidden;
        softPositions += 1;
      }
    }
  }
  return { embeddings: values, tokenIds, positions, softPositions };
}
