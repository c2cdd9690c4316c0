import { lampLabelSets } from '@userplug/train';

/** LaMP task numbers. Task 6 (Avocado email subjects) is not public: its files must be built from Avocado. */
export type LampTaskNumber = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** How a task is scored. */
export type LampTaskKind = 'classification' | 'rating' | 'generation';

/** One profile entry: an id, its fields (`title`, `abstract`, `text`, `tag`, `score`, …) and often a `date`. */
export type LampProfileItem = { id: string } & Record<string, unknown>;

/** What the evaluation knows about a task. */
export interface LampTaskInfo {
  number: LampTaskNumber;
  /** The name in output files and the leaderboard, such as `LaMP_2`. */
  name: string;
  title: string;
  kind: LampTaskKind;
  /** The full label list, for classification metrics (macro-F1 averages over all of it): `@userplug/train`'s. */
  labels: readonly string[];
  /** The profile fields the task's corpus uses. */
  profileFields: readonly string[];
  /** The profile field holding the user's own label for an entry (tag, score, title), when there is one. */
  labelField?: string;
}

/** The seven tasks. */
export const lampTasks: Readonly<Record<LampTaskNumber, LampTaskInfo>> = {
  1: {
    number: 1,
    name: 'LaMP_1',
    title: 'personalized citation identification',
    kind: 'classification',
    labels: lampLabelSets.LaMP_1,
    profileFields: ['title', 'abstract'],
  },
  2: {
    number: 2,
    name: 'LaMP_2',
    title: 'personalized movie tagging',
    kind: 'classification',
    labels: lampLabelSets.LaMP_2,
    profileFields: ['description', 'tag'],
    labelField: 'tag',
  },
  3: {
    number: 3,
    name: 'LaMP_3',
    title: 'personalized product rating',
    kind: 'rating',
    labels: lampLabelSets.LaMP_3,
    profileFields: ['text', 'score'],
    labelField: 'score',
  },
  4: {
    number: 4,
    name: 'LaMP_4',
    title: 'personalized news headline generation',
    kind: 'generation',
    labels: [],
    profileFields: ['title', 'text'],
    labelField: 'title',
  },
  5: {
    number: 5,
    name: 'LaMP_5',
    title: 'personalized scholarly title generation',
    kind: 'generation',
    labels: [],
    profileFields: ['title', 'abstract'],
    labelField: 'title',
  },
  6: {
    number: 6,
    name: 'LaMP_6',
    title: 'personalized email subject generation',
    kind: 'generation',
    labels: [],
    profileFields: ['text', 'title'],
    labelField: 'title',
  },
  7: {
    number: 7,
    name: 'LaMP_7',
    title: 'personalized tweet paraphrasing',
    kind: 'generation',
    labels: [],
    profileFields: ['text'],
  },
};

/** Parses a task number from `2`, `LaMP-2` or `LaMP_2`. */
export function parseLampTask(value: string | number): LampTaskNumber | undefined {
  const match = /^(?:lamp[-_]?)?([1-7])$/i.exec(String(value).trim());
  return match ? (Number(match[1]) as LampTaskNumber) : undefined;
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** LaMP's `extract_strings_between_quotes`: the texts between successive pairs of `"`. */
export function extractStringsBetweenQuotes(input: string): string[] {
  const output: string[] = [];
  let inside = false;
  let current = '';
  for (const character of input) {
    if (character === '"' && !inside) inside = true;
    else if (character === '"' && inside) {
      inside = false;
      output.push(current);
      current = '';
    } else if (inside) current += character;
  }
  return output;
}

function after(input: string, marker: string): string | undefined {
  const index = input.indexOf(marker);
  return index === -1 ? undefined : input.slice(index + marker.length).trim();
}

/**
 * LaMP's retrieval query for an input (the `*_query_corpus_maker` functions): the two candidate titles for
 * LaMP-1, else the text after the task's marker (`description:`, `review:`, `article:`, `paper:`, `:`).
 * Falls back to the whole input where LaMP's would return None.
 */
export function lampQuery(task: LampTaskNumber, input: string): string {
  if (task === 1) {
    const quoted = extractStringsBetweenQuotes(input);
    return quoted.length >= 3 ? `${quoted[1]} ${quoted[2]}` : input;
  }
  const marker = { 2: 'description:', 3: 'review:', 4: 'article:', 5: 'paper:', 6: ':', 7: ':' }[task];
  return after(input, marker) ?? input;
}

/** LaMP's corpus text of a profile entry for retrieval. */
export function lampCorpusText(task: LampTaskNumber, item: LampProfileItem): string {
  switch (task) {
    case 1:
    case 5:
      return `${text(item.title)} ${text(item.abstract)}`;
    case 2:
      return text(item.description);
    case 3:
    case 6:
    case 7:
      return text(item.text);
    case 4:
      return `${text(item.title)} ${text(item.text)}`;
  }
}
