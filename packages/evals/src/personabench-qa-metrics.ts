import type { PersonaBenchValue } from './load-personabench.js';
import { pythonStringRepr } from './personabench-official-text.js';
import { isSkippedType, officialCategory } from './personabench-retrieval-metrics.js';

// Python's str.isspace() characters: what `\s` matches in a str regex and where str.split() cuts.
const pythonSpace =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const notKept = new RegExp(`[^a-zA-Z0-9${pythonSpace}]`, 'g');
const spaces = new RegExp(`[${pythonSpace}]+`);
const edgeSpaces = new RegExp(`^[${pythonSpace}]+|[${pythonSpace}]+$`, 'g');

/** The official `clean_text`: drop every character but ASCII letters, digits and whitespace, strip, lower-case. */
export function cleanAnswerText(text: string): string {
  return text.replace(notKept, '').replace(edgeSpaces, '').toLowerCase();
}

/** The official `split_into_words`: the set of words of the cleaned text. */
export function answerWords(text: string): Set<string> {
  const cleaned = cleanAnswerText(text);
  return new Set(cleaned.length === 0 ? [] : cleaned.split(spaces).filter((word) => word.length > 0));
}

/** Python's `repr()` of a JSON value (`{'Height': 'tall'}`, `['a', 1]`, `True`, `None`). */
export function pythonRepr(value: unknown): string {
  if (typeof value === 'string') return pythonStringRepr(value);
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`,
    );
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

/** Python's `str()` of a JSON value: a string as itself, anything else as its repr. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

function valueWords(value: unknown): Set<string> {
  if (!Array.isArray(value)) return answerWords(pythonStr(value));
  // The official script unions the words of str(item) over a list: a dict item contributes its keys too.
  const words = new Set<string>();
  for (const item of value) for (const word of answerWords(pythonStr(item))) words.add(word);
  return words;
}

/** Precision, recall and F1 of two word sets, as the official `calculate_precision_recall_f1`. */
export function wordSetScores(
  gold: ReadonlySet<string>,
  predicted: ReadonlySet<string>,
): { precision: number; recall: number; f1: number } {
  let truePositives = 0;
  for (const word of predicted) if (gold.has(word)) truePositives++;
  const precision = predicted.size > 0 ? truePositives / predicted.size : 0;
  const recall = gold.size > 0 ? truePositives / gold.size : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** One answered question, as {@link summarizeQa} needs it. */
export interface AnsweredQuestion {
  type: string;
  difficulty: string;
  answer: PersonaBenchValue;
  outdatedValue: PersonaBenchValue | null;
  /** The model's answer: text, or a list of texts. */
  prediction: string | readonly unknown[];
}

/** Mean word-set scores of a group of questions. */
export interface QaSummary {
  precision: number;
  recall: number;
  f1: number;
  n: number;
}

/** What {@link summarizeQa} returns. */
export interface QaBreakdown extends QaSummary {
  byType: Record<string, QaSummary>;
  byCategory: Record<string, QaSummary>;
  /** Recall of the outdated value's words in the predictions (lower is better), over questions that have one. */
  outdated: { recall: number; n: number };
}

/** Options of {@link summarizeQa}. */
export interface SummarizeQaOptions {
  /**
   * How a bare-number gold answer (one in community_0: an age) is scored. `words` (default) reads it as its
   * digits. `official` reproduces the official script, which skips the assignment for an `int` answer and so
   * scores against the previous scored question's gold words.
   */
  numberAnswers?: 'words' | 'official';
}

/**
 * End-to-end QA scores as the official `calculate_qa_scores`: word sets after cleaning, Subjective skipped,
 * means overall, by type and by official category, and the outdated-value recall.
 */
export function summarizeQa(
  questions: readonly AnsweredQuestion[],
  options: SummarizeQaOptions = {},
): QaBreakdown {
  const overall = { precision: 0, recall: 0, f1: 0, n: 0 };
  const byType = new Map<string, typeof overall>();
  const byCategory = new Map<string, typeof overall>();
  const outdated = { recall: 0, n: 0 };
  let previousGold = new Set<string>();
  const add = (
    map: Map<string, typeof overall>,
    key: string,
    score: { precision: number; recall: number; f1: number },
  ) => {
    let group = map.get(key);
    if (!group) {
      group = { precision: 0, recall: 0, f1: 0, n: 0 };
      map.set(key, group);
    }
    group.precision += score.precision;
    group.recall += score.recall;
    group.f1 += score.f1;
    group.n++;
  };
  for (const question of questions) {
    if (isSkippedType(question.type)) continue;
    const gold =
      typeof question.answer === 'number' && options.numberAnswers === 'official'
        ? previousGold
        : valueWords(question.answer);
    previousGold = gold;
    const predicted = valueWords(question.prediction);
    const score = wordSetScores(gold, predicted);
    overall.precision += score.precision;
    overall.recall += score.recall;
    overall.f1 += score.f1;
    overall.n++;
    add(byType, question.type, score);
    add(byCategory, officialCategory(question.type, question.difficulty), score);
    if (question.outdatedValue !== null) {
      outdated.recall += wordSetScores(valueWords(question.outdatedValue), predicted).recall;
      outdated.n++;
    }
  }
  const mean = (group: typeof overall): QaSummary =>
    group.n === 0
      ? { precision: 0, recall: 0, f1: 0, n: 0 }
      : {
          precision: group.precision / group.n,
          recall: group.recall / group.n,
          f1: group.f1 / group.n,
          n: group.n,
        };
  const toRecord = (map: Map<string, typeof overall>) =>
    Object.fromEntries(
      [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, group]) => [key, mean(group)]),
    );
  return {
    ...mean(overall),
    byType: toRecord(byType),
    byCategory: toRecord(byCategory),
    outdated: { recall: outdated.n === 0 ? 0 : outdated.recall / outdated.n, n: outdated.n },
  };
}
