import { InvalidArgumentError } from '@userplug/core';
import { type LampTaskNumber, lampTasks } from './lamp-tasks.js';
import { parsePythonFloat } from './python-float.js';
import { rougeScore } from './rouge-score.js';

/** Metrics of a LaMP run; which ones are present depends on the task. */
export interface LampMetrics {
  /** LaMP-1, LaMP-2. */
  accuracy?: number;
  /** Macro-F1 over the task's full label list (LaMP-1, LaMP-2). */
  f1?: number;
  /** LaMP-3. */
  mae?: number;
  /** LaMP-3. */
  rmse?: number;
  /** Mean ROUGE-1 F-measure (LaMP-4 to 7). */
  rouge1?: number;
  /** Mean ROUGE-L F-measure (LaMP-4 to 7). */
  rougeL?: number;
  /** Predictions scored. */
  n: number;
  /** Predictions outside the label list (classification) or not a number (rating). */
  invalid: number;
}

/**
 * Accuracy and macro-F1 as LaMP's `create_metric_f1_accuracy`: predictions and golds are stripped and mapped
 * to their index in the label list (-1 when absent); accuracy compares the indexes; F1 is scikit-learn's
 * macro average over every label of the list (a label never predicted nor gold scores 0, zero_division).
 */
export function classificationMetrics(
  predictions: readonly string[],
  golds: readonly string[],
  labels: readonly string[],
): { accuracy: number; f1: number; invalid: number } {
  const index = (value: string) => labels.indexOf(value.trim());
  const predicted = predictions.map(index);
  const gold = golds.map(index);
  let correct = 0;
  predicted.forEach((value, position) => {
    if (value === gold[position]) correct++;
  });
  let f1Sum = 0;
  for (let label = 0; label < labels.length; label++) {
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    predicted.forEach((value, position) => {
      if (value === label && gold[position] === label) truePositives++;
      else if (value === label) falsePositives++;
      else if (gold[position] === label) falseNegatives++;
    });
    const denominator = 2 * truePositives + falsePositives + falseNegatives;
    f1Sum += denominator === 0 ? 0 : (2 * truePositives) / denominator;
  }
  return {
    accuracy: predicted.length === 0 ? 0 : correct / predicted.length,
    f1: labels.length === 0 ? 0 : f1Sum / labels.length,
    invalid: predicted.filter((value) => value === -1).length,
  };
}

/**
 * MAE and RMSE as LaMP's `create_metric_mae_rmse`: a prediction is Python's `float()` of its stripped text; an
 * unparseable one counts as whichever of 1 and 5 is farther from the gold (5 when equally far).
 */
export function ratingMetrics(
  predictions: readonly string[],
  golds: readonly string[],
): { mae: number; rmse: number; invalid: number } {
  let absolute = 0;
  let squared = 0;
  let invalid = 0;
  predictions.forEach((prediction, position) => {
    const gold = parsePythonFloat(golds[position]!.trim()) ?? Number.NaN;
    let value = parsePythonFloat(prediction.trim());
    if (value === undefined) {
      invalid++;
      value = Math.abs(1 - gold) > Math.abs(5 - gold) ? 1 : 5;
    }
    absolute += Math.abs(value - gold);
    squared += (value - gold) ** 2;
  });
  const count = predictions.length;
  return {
    mae: count === 0 ? 0 : absolute / count,
    rmse: count === 0 ? 0 : Math.sqrt(squared / count),
    invalid,
  };
}

/**
 * Mean ROUGE-1 and ROUGE-L F-measures (`rouge_score`, no stemmer, stripped texts) over the predictions. HF
 * `evaluate` reports the median of 1,000 bootstrap means instead, a random estimate of this same mean.
 */
export function generationMetrics(
  predictions: readonly string[],
  golds: readonly string[],
): { rouge1: number; rougeL: number } {
  let rouge1 = 0;
  let rougeL = 0;
  predictions.forEach((prediction, position) => {
    const score = rougeScore(golds[position]!.trim(), prediction.trim());
    rouge1 += score.rouge1.fmeasure;
    rougeL += score.rougeL.fmeasure;
  });
  const count = predictions.length;
  return { rouge1: count === 0 ? 0 : rouge1 / count, rougeL: count === 0 ? 0 : rougeL / count };
}

/** The task's official metrics over predictions and golds of the same questions, in the same order. */
export function lampMetrics(
  task: LampTaskNumber,
  predictions: readonly string[],
  golds: readonly string[],
): LampMetrics {
  if (predictions.length !== golds.length) {
    throw new InvalidArgumentError(
      'predictions',
      `${predictions.length} predictions for ${golds.length} golds: score the same questions.`,
    );
  }
  const info = lampTasks[task];
  const n = predictions.length;
  if (info.kind === 'classification') return { ...classificationMetrics(predictions, golds, info.labels), n };
  if (info.kind === 'rating') return { ...ratingMetrics(predictions, golds), n };
  return { ...generationMetrics(predictions, golds), n, invalid: 0 };
}
