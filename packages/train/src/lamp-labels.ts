/** LaMP-2 movie tags, as LaMP's `get_all_labels` lists them. */
export const lampMovieTags = [
  'sci-fi',
  'based on a book',
  'comedy',
  'action',
  'twist ending',
  'dystopia',
  'dark comedy',
  'classic',
  'psychology',
  'fantasy',
  'romance',
  'thought-provoking',
  'social commentary',
  'violence',
  'true story',
] as const;

/**
 * The full label lists of LaMP's classification-style tasks, by task name: training builds one prototype per
 * label, and the evals score macro-F1 over all of them.
 */
export const lampLabelSets = {
  LaMP_1: ['[1]', '[2]'],
  LaMP_2: lampMovieTags,
  LaMP_3: ['1', '2', '3', '4', '5'],
} as const satisfies Readonly<Record<string, readonly string[]>>;
