import type { Encoder, HistoryItemInput, Personalizer } from '@userplug/core';
import { createSeededRandom, mixSeed } from '@userplug/core/internal';
import { createBm25Okapi } from './bm25-okapi.js';
import { createDenseRetriever } from './create-dense-retriever.js';
import {
  type LampProfileItem,
  type LampTaskNumber,
  lampCorpusText,
  lampQuery,
  lampTasks,
} from './lamp-tasks.js';
import type { LampQuestion } from './load-lamp.js';

/** LaMP personalization methods by CLI name. */
export const lampMethods = {
  none: 'no personalization: the input alone',
  'random-k':
    'k profile entries drawn at random with replacement (LaMP: random.choices), seeded per question',
  'recency-k': 'the k most recent profile entries, newest first (LaMP: sorted by date)',
  'bm25-k': 'the k best profile entries by BM25Okapi over whitespace tokens (LaMP: rank_bm25)',
  'dense-k': 'the k profile entries most similar to the query by the encoder (one vector per entry)',
  userplug: "userplug's persona text: personalize() over the whole profile, under a token budget",
} as const;

/** A LaMP method's CLI name. */
export type LampMethod = keyof typeof lampMethods;

/** Whether a name is a LaMP method. */
export function isLampMethod(name: string): name is LampMethod {
  return Object.hasOwn(lampMethods, name);
}

function dateKey(value: unknown): number[] {
  // LaMP: tuple(map(int, str(x['date']).split("-"))).
  return String(value ?? '')
    .split('-')
    .map((part) => Number.parseInt(part, 10))
    .map((part) => (Number.isFinite(part) ? part : 0));
}

function compareKeys(left: number[], right: number[]): number {
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? Number.NEGATIVE_INFINITY) - (right[index] ?? Number.NEGATIVE_INFINITY);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** LaMP's recency-k: sorted by date (stable; undated entries keep profile order), the last k, newest first. */
export function recentProfile(profile: readonly LampProfileItem[], k: number): LampProfileItem[] {
  const sorted = profile
    .map((item, index) => ({ item, index, key: dateKey(item.date) }))
    .sort((left, right) => compareKeys(left.key, right.key) || left.index - right.index)
    .map(({ item }) => item);
  return sorted.slice(Math.max(0, sorted.length - k)).reverse();
}

/** LaMP's random-k: `random.choices(profile, k=k)` (with replacement), from a seeded generator. */
export function randomProfile(
  profile: readonly LampProfileItem[],
  k: number,
  seed: number,
): LampProfileItem[] {
  if (profile.length === 0) return [];
  const random = createSeededRandom(seed);
  return Array.from({ length: k }, () => profile[random.below(profile.length)]!);
}

/** LaMP's bm25-k: `BM25Okapi` over `x.split()` of the corpus texts, `get_top_n(query.split())`. */
export function bm25Profile(task: LampTaskNumber, question: LampQuestion, k: number): LampProfileItem[] {
  const split = (text: string) => text.split(/\s+/).filter((word) => word.length > 0);
  const bm25 = createBm25Okapi(question.profile.map((item) => split(lampCorpusText(task, item))));
  return bm25.topN(split(lampQuery(task, question.input)), k).map((index) => question.profile[index]!);
}

/** Dense-k: the encoder's cosine between the query and each entry's corpus text. */
export async function denseProfile(
  task: LampTaskNumber,
  question: LampQuestion,
  k: number,
  encoder: Encoder,
): Promise<LampProfileItem[]> {
  const retriever = createDenseRetriever({ encoder });
  const index = await retriever.index(
    question.profile.map((item, row) => ({ id: String(row), text: lampCorpusText(task, item) || ' ' })),
    { userId: question.id },
  );
  const rows = await index.search(lampQuery(task, question.input), k);
  return rows.map((row) => question.profile[Number(row)]!);
}

/** A profile entry as a core history item: corpus text, the user's label or rating, its date. */
export function profileToHistoryItem(
  task: LampTaskNumber,
  item: LampProfileItem,
  row: number,
): HistoryItemInput {
  const info = lampTasks[task];
  const text = lampCorpusText(task, item).trim() || '(empty)';
  const label = info.labelField === undefined ? undefined : item[info.labelField];
  const rating = task === 3 ? Number(item.score) : Number.NaN;
  const date =
    typeof item.date === 'string' || typeof item.date === 'number'
      ? Date.parse(String(item.date))
      : Number.NaN;
  return {
    id: `${row}:${item.id}`,
    text,
    ...(Number.isFinite(rating)
      ? { rating }
      : label !== undefined && task !== 4 && task !== 5
        ? { label: String(label) }
        : {}),
    ...(Number.isFinite(date) ? { timestamp: date } : {}),
  };
}

/** userplug: ingests the whole profile, personalizes the input; returns the persona prompt and the top entries. */
export async function userplugPrompt(
  personalizer: Personalizer,
  task: LampTaskNumber,
  question: LampQuestion,
  options: { budget: number; k: number },
): Promise<{ prompt: string; selected: LampProfileItem[] }> {
  const userId = `lamp-${task}-${question.id}`;
  await personalizer.forget(userId);
  await personalizer.ingest(
    userId,
    question.profile.map((item, row) => profileToHistoryItem(task, item, row)),
  );
  try {
    const result = await personalizer.personalize({
      userId,
      prompt: question.input,
      budget: options.budget,
      maxAttributions: options.k,
    });
    const selected = result.persona.attributions.map(
      (attribution) =>
        question.profile[Number(attribution.itemId.slice(0, attribution.itemId.indexOf(':')))]!,
    );
    return { prompt: result.prompt, selected };
  } finally {
    await personalizer.forget(userId);
  }
}

/** A per-question seed for random-k. */
export function questionSeed(question: LampQuestion, seed: number): number {
  return mixSeed(seed, question.id);
}
