import { type LampProfileItem, type LampTaskNumber, lampQuery, lampTasks } from './lamp-tasks.js';

/** Deterministic non-LLM predictors for offline smoke runs. Never an LLM result. */
export const lampBaselines = {
  majority:
    'baseline, not an LLM: the most common label (tag or score) among the entries the method selected; the task’s first label when none',
  echo: 'baseline, not an LLM: the input text after its instruction (the tweet, abstract or article) as the output',
} as const;

/** A baseline's name. */
export type LampBaseline = keyof typeof lampBaselines;

/** Whether a `--model` value names a baseline. */
export function isLampBaseline(name: string): name is LampBaseline {
  return Object.hasOwn(lampBaselines, name);
}

/** The majority baseline's prediction. */
export function majorityLabel(task: LampTaskNumber, selected: readonly LampProfileItem[]): string {
  const info = lampTasks[task];
  const counts = new Map<string, number>();
  if (info.labelField !== undefined && info.kind !== 'generation') {
    for (const item of selected) {
      const value = item[info.labelField];
      if (value === undefined || value === null) continue;
      const label = String(value).trim();
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
  }
  let best = info.labels[0] ?? '';
  let bestCount = 0;
  for (const [label, count] of counts) {
    if (count > bestCount) {
      best = label;
      bestCount = count;
    }
  }
  return best;
}

/** A baseline's prediction for one question. */
export function baselinePrediction(
  baseline: LampBaseline,
  task: LampTaskNumber,
  input: string,
  selected: readonly LampProfileItem[],
): string {
  return baseline === 'majority' ? majorityLabel(task, selected) : lampQuery(task, input);
}
