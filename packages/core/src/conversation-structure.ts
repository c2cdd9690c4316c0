import type { HistoryItem } from './history-item.js';
import { namedPeriods, resolveTimeExpressions, type TimeExpression } from './resolve-time-expressions.js';

/** What a user's chat turns say about each other: who wrote each, which turn came before, what dates they name. */
export interface ConversationStructure {
  /** Whether any item is a chat turn (has a speaker, conversation or session id). */
  hasTurns: boolean;
  /** Index into `speakerNames` of each item's speaker, -1 when it has none. */
  speakerIds: Int32Array;
  /** Distinct speakers. */
  speakerNames: string[];
  /** 1 for the user's own items: marked `self`, or written by a speaker of such an item. */
  selfItems: Uint8Array;
  /** Whether any item is the user's own. */
  hasSelf: boolean;
  /** The speakers of the user's own items. */
  selfSpeakers: string[];
  /** Row of the turn before each item in its conversation (and session), -1 when none. */
  previousTurn: Int32Array;
  /** Row of the turn after each item, -1 when none. */
  nextTurn: Int32Array;
  /** 1 for a turn that answers a question: the turn before it asks one (its text has a `?`). */
  answersQuestion: Uint8Array;
  /** The relative time expressions of each dated item ("yesterday"), resolved against its timestamp. */
  timeExpressions: ReadonlyMap<number, readonly TimeExpression[]>;
}

const structures = new WeakMap<readonly HistoryItem[], ConversationStructure>();

/** The conversation structure of a user's items, built once per item list (per history revision). */
export function conversationStructureOf(items: readonly HistoryItem[]): ConversationStructure {
  let structure = structures.get(items);
  if (!structure) {
    structure = buildConversationStructure(items);
    structures.set(items, structure);
  }
  return structure;
}

/** Reads the conversation structure of a user's items (in store order). */
export function buildConversationStructure(items: readonly HistoryItem[]): ConversationStructure {
  const count = items.length;
  const speakerIds = new Int32Array(count).fill(-1);
  const speakerNames: string[] = [];
  const speakerLookup = new Map<string, number>();
  const selfItems = new Uint8Array(count);
  const previousTurn = new Int32Array(count).fill(-1);
  const nextTurn = new Int32Array(count).fill(-1);
  const answersQuestion = new Uint8Array(count);
  const timeExpressions = new Map<number, TimeExpression[]>();
  const selfSpeakers = new Set<number>();
  const conversations = new Map<string, number[]>();
  let hasTurns = false;
  items.forEach((item, row) => {
    if (item.speaker !== undefined) {
      let id = speakerLookup.get(item.speaker);
      if (id === undefined) {
        id = speakerNames.length;
        speakerNames.push(item.speaker);
        speakerLookup.set(item.speaker, id);
      }
      speakerIds[row] = id;
      if (item.self === true) selfSpeakers.add(id);
    }
    if (item.self === true) selfItems[row] = 1;
    if (item.conversationId !== undefined || item.sessionId !== undefined) {
      const key = `${item.conversationId ?? ''}\u0000${item.sessionId ?? ''}`;
      const turns = conversations.get(key);
      if (turns) turns.push(row);
      else conversations.set(key, [row]);
    }
    if (item.speaker !== undefined || item.conversationId !== undefined || item.sessionId !== undefined)
      hasTurns = true;
    if (item.timestamp !== undefined) {
      const found = resolveTimeExpressions(item.text, item.timestamp);
      if (found.length > 0) timeExpressions.set(row, found);
    }
  });
  // The user's speaker marks all of that speaker's turns, even those not marked `self`.
  if (selfSpeakers.size > 0)
    speakerIds.forEach((id, row) => {
      if (selfSpeakers.has(id)) selfItems[row] = 1;
    });
  for (const turns of conversations.values()) {
    // Turns in time order; equal times (a session's turns share its date) keep the order they were stored in.
    turns.sort(
      (left, right) => (items[left]!.timestamp ?? 0) - (items[right]!.timestamp ?? 0) || left - right,
    );
    for (let position = 1; position < turns.length; position++) {
      previousTurn[turns[position]!] = turns[position - 1]!;
      nextTurn[turns[position - 1]!] = turns[position]!;
      if (items[turns[position - 1]!]!.text.includes('?')) answersQuestion[turns[position]!] = 1;
    }
  }
  return {
    hasTurns,
    speakerIds,
    speakerNames,
    selfItems,
    hasSelf: selfItems.includes(1),
    selfSpeakers: [...selfSpeakers].map((id) => speakerNames[id]!),
    previousTurn,
    nextTurn,
    answersQuestion,
    timeExpressions,
  };
}

/** What a question says about whom and when it asks, as far as a user's conversations can use it. */
export interface QuestionCues {
  /** Speakers the question names ("What did Priya cook?"), as ids of the structure. */
  namedSpeakers: number[];
  /** The question is about the asker ("Where do I live?"). */
  firstPerson: boolean;
  /** The question asks for a time ("When did…", "How long ago…", "What year…"). */
  asksTime: boolean;
  /** Periods the question names ("in 2023", "May 2023"). */
  periods: { start: number; end: number }[];
}

const asksTimePattern =
  /\b(when|how long ago|since when|what (year|month|day|date|time)|which (year|month|day|date)|what day of the week)\b/i;
const firstPersonPattern = /\b(I|me|my|mine|myself|I'm|I've|I'd|I'll)\b/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reads a question's cues: which of the speakers it names (their full name, or their first name written with a
 * capital, as a whole word), whether it is in the first person, whether it asks when, and which periods it names.
 */
export function readQuestionCues(question: string, structure: ConversationStructure): QuestionCues {
  const namedSpeakers: number[] = [];
  structure.speakerNames.forEach((name, id) => {
    const forms = new Set([name, name.split(/\s+/)[0]!]);
    for (const form of forms) {
      if (!/^\p{Lu}/u.test(form) || form.length < 2) continue;
      if (new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(form)}(?![\\p{L}\\p{N}])`, 'u').test(question)) {
        namedSpeakers.push(id);
        break;
      }
    }
  });
  return {
    namedSpeakers,
    firstPerson: firstPersonPattern.test(question),
    asksTime: asksTimePattern.test(question),
    periods: namedPeriods(question),
  };
}
