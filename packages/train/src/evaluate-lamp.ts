import {
  createEstimatingTokenCounter,
  createPersonalizer,
  type Encoder,
  type TrainedArtifact,
} from '@userplug/core';
import { classifyWithPrototypes } from './classify-with-prototypes.js';
import { type LampData, lampProfileToHistoryItem } from './training-data.js';

/** How a prediction is made from the persona. */
export type LampPredictor =
  /** Training-free: the attention-weighted vote of the profile's own labels (LaMP-3: weighted mean score, rounded). */
  | 'label-vote'
  /** The artifact's prototypes on the persona vector (LaMP-3: the expected score, rounded). */
  | 'prototypes';

/** Options of {@link evaluateLamp}. */
export interface EvaluateLampOptions {
  data: LampData;
  encoder: Encoder;
  /** The trained artifact, or undefined for the untrained personalizer. */
  artifact?: TrainedArtifact;
  /** Artifact whose prototypes classify (default `artifact`): lets untrained attention use prototypes. */
  prototypes?: TrainedArtifact;
  predictor: LampPredictor;
  /** Instruction passed with every input. Default none. */
  instruction?: string;
}

/** Scores of one evaluation. */
export interface LampEvaluation {
  /** Share of exact predictions. */
  accuracy: number;
  /** Macro-F1 over the labels that occur in gold or predictions (classification). */
  macroF1: number;
  /** Mean absolute error and root mean squared error (numeric labels). */
  mae?: number;
  rmse?: number;
  n: number;
  predictions: { id: string; gold: string; predicted: string }[];
}

function macroF1(pairs: readonly { gold: string; predicted: string }[]): number {
  const labels = new Set(pairs.flatMap((pair) => [pair.gold, pair.predicted]));
  let sum = 0;
  for (const label of labels) {
    const truePositive = pairs.filter((pair) => pair.gold === label && pair.predicted === label).length;
    const predicted = pairs.filter((pair) => pair.predicted === label).length;
    const actual = pairs.filter((pair) => pair.gold === label).length;
    const precision = predicted > 0 ? truePositive / predicted : 0;
    const recall = actual > 0 ? truePositive / actual : 0;
    sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return labels.size > 0 ? sum / labels.size : 0;
}

/**
 * Runs LaMP-format examples through core's personalizer (with the artifact, or untrained) and predicts each
 * label from the persona: the measurement before and after training, through the same code path an app uses.
 */
export async function evaluateLamp(options: EvaluateLampOptions): Promise<LampEvaluation> {
  const { data, encoder, artifact } = options;
  const personalizer = createPersonalizer({
    encoder,
    tokenCounter: await createEstimatingTokenCounter(),
    ...(artifact ? { trained: artifact } : {}),
  });
  const numeric = data.task === 'LaMP_3';
  const predictions: LampEvaluation['predictions'] = [];
  try {
    for (const example of data.examples) {
      const userId = `evaluate:${example.id}`;
      const items = example.profile.map((entry, row) => lampProfileToHistoryItem(data.task, entry, row));
      const result = await personalizer.personalize({
        userId,
        prompt: example.input,
        history: items,
        maxAttributions: items.length,
        ...(options.instruction === undefined ? {} : { instruction: options.instruction }),
      });
      await personalizer.forget(userId);
      let predicted: string;
      if (options.predictor === 'prototypes') {
        const classifier = options.prototypes ?? artifact;
        if (!classifier) throw new Error('The prototypes predictor needs an artifact with prototypes.');
        const classification = classifyWithPrototypes(result.persona, classifier, {
          instruction: options.instruction ?? null,
        });
        predicted =
          numeric && classification.expected !== undefined
            ? String(Math.round(classification.expected))
            : classification.label;
      } else {
        const byId = new Map(items.map((item) => [String(item.id), item]));
        if (numeric) {
          let sum = 0;
          let weight = 0;
          for (const attribution of result.persona.attributions) {
            const rating = byId.get(attribution.itemId)?.rating;
            if (rating === undefined) continue;
            sum += attribution.weight * rating;
            weight += attribution.weight;
          }
          predicted = String(weight > 0 ? Math.round(sum / weight) : 3);
        } else {
          const votes = new Map<string, number>();
          for (const attribution of result.persona.attributions) {
            const label = byId.get(attribution.itemId)?.label;
            if (label !== undefined) votes.set(label, (votes.get(label) ?? 0) + attribution.weight);
          }
          predicted = [...votes].sort((left, right) => right[1] - left[1])[0]?.[0] ?? '';
        }
      }
      predictions.push({ id: example.id, gold: example.output.trim(), predicted });
    }
  } finally {
    await personalizer.dispose();
  }
  const n = predictions.length;
  const evaluation: LampEvaluation = {
    accuracy: predictions.filter((pair) => pair.gold === pair.predicted).length / n,
    macroF1: macroF1(predictions),
    n,
    predictions,
  };
  if (numeric) {
    const errors = predictions.map((pair) => Number(pair.predicted) - Number(pair.gold));
    evaluation.mae = errors.reduce((sum, error) => sum + Math.abs(error), 0) / n;
    evaluation.rmse = Math.sqrt(errors.reduce((sum, error) => sum + error * error, 0) / n);
  }
  return evaluation;
}
