import type { HistoryItemInput } from '@userplug/core';
import type { PersonaBenchQuestion, PersonaBenchValue } from './load-personabench.js';
import { segmentOfTurn } from './session-to-history-item.js';

function normalized(text: string): string {
  return ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

/** The answer's values as texts: list items, and the values of objects such as `{"Height": "5'6\""}`. */
function answerValues(answer: PersonaBenchValue): string[] {
  const values: string[] = [];
  const visit = (value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') values.push(String(value));
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(answer);
  return values;
}

/**
 * The turns that state a question's answer, for scoring a turn ranking the way turn-level benchmarks do: turns of
 * the question's evidence sessions whose words contain one of the answer's values (at least three characters, as
 * whole words, case and punctuation ignored). PersonaBench has evidence per session only, and much of it never states
 * the answer, so this is a development proxy, read only when scoring.
 */
export function answerTurns(
  question: PersonaBenchQuestion,
  documents: readonly HistoryItemInput[],
): Set<string> {
  const sessions = new Set(Object.values(question.evidence).flat());
  const values = answerValues(question.answer)
    .map(normalized)
    .filter((value) => value.trim().length >= 3 && value.trim() !== 'n a');
  const turns = new Set<string>();
  if (values.length === 0) return turns;
  for (const document of documents) {
    const id = String(document.id);
    if (!sessions.has(segmentOfTurn(id))) continue;
    const text = normalized(document.text);
    if (values.some((value) => text.includes(value))) turns.add(id);
  }
  return turns;
}

/** The share of answer turns among the given turn ids. */
export function answerTurnRecall(found: readonly string[], gold: ReadonlySet<string>): number {
  if (gold.size === 0) return 0;
  let hits = 0;
  for (const id of new Set(found)) if (gold.has(id)) hits++;
  return hits / gold.size;
}
