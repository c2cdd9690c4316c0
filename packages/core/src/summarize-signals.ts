import type { HistoryItem } from './history-item.js';

/** Counts of one value of a typed signal. */
export interface SignalCount {
  /** The value, such as a kind (`review`) or a label (`hiking`). */
  value: string;
  /** Items with that value. */
  count: number;
}

/** Query-independent facts from the typed signals of a user's items. */
export interface SignalSummary {
  /** Number of items. */
  itemCount: number;
  /** Items per kind, most frequent first. */
  kinds: SignalCount[];
  /** Items per label (category, tag), most frequent first, at most 12. */
  labels: SignalCount[];
  /** Rating statistics over rated items, when any item has a rating. */
  ratings?: { count: number; mean: number; minimum: number; maximum: number };
  /** Earliest and latest timestamp (epoch ms), when any item has one. */
  timeSpan?: { first: number; last: number };
}

function countValues(values: Iterable<string>): SignalCount[] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((left, right) => right.count - left.count || (left.value < right.value ? -1 : 1));
}

/** Summarises kinds, labels, ratings and time span of a user's items. */
export function summarizeSignals(items: readonly HistoryItem[]): SignalSummary {
  let ratingCount = 0;
  let ratingSum = 0;
  let minimum = Number.POSITIVE_INFINITY;
  let maximum = Number.NEGATIVE_INFINITY;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    if (item.rating !== undefined) {
      ratingCount++;
      ratingSum += item.rating;
      minimum = Math.min(minimum, item.rating);
      maximum = Math.max(maximum, item.rating);
    }
    if (item.timestamp !== undefined) {
      first = Math.min(first, item.timestamp);
      last = Math.max(last, item.timestamp);
    }
  }
  const summary: SignalSummary = {
    itemCount: items.length,
    kinds: countValues(items.flatMap((item) => (item.kind === undefined ? [] : [item.kind]))),
    labels: countValues(items.flatMap((item) => (item.label === undefined ? [] : [item.label]))).slice(0, 12),
  };
  if (ratingCount > 0)
    summary.ratings = { count: ratingCount, mean: ratingSum / ratingCount, minimum, maximum };
  if (first <= last) summary.timeSpan = { first, last };
  return summary;
}
