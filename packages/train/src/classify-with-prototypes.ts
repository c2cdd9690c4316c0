import { InvalidArgumentError, type Persona, type TrainedArtifact } from '@userplug/core';
import { normalizeInPlace } from '@userplug/core/internal';

/** What {@link classifyWithPrototypes} returns. */
export interface PrototypeClassification {
  /** The scenario's name. */
  name: string;
  /** The most probable label. */
  label: string;
  /** Every label with its probability, most probable first. */
  probabilities: { label: string; probability: number }[];
  /** Probability-weighted mean of the labels, when every label is a number (ratings): minimizes expected absolute error better than `label` on average. */
  expected?: number;
}

/**
 * Classifies a query-aware persona with a scenario's prototypes (Query-as-Anchor's scenario
 * adaptation): softmax over cosines to the prototypes. Build the persona with the scenario's
 * instruction (`personalize({ instruction })`) so its soft prompt shapes the attention.
 * `scenario` picks prototypes by name or instruction; default: the only (or first) scenario.
 */
export function classifyWithPrototypes(
  persona: Pick<Persona, 'vector'> | Float32Array,
  artifact: TrainedArtifact,
  scenario: { name?: string; instruction?: string | null } = {},
): PrototypeClassification {
  const vector = persona instanceof Float32Array ? persona : persona.vector;
  const dim = artifact.encoder.dim;
  if (vector.length !== dim) {
    throw new InvalidArgumentError(
      'persona',
      `The persona vector has ${vector.length} dimensions; the artifact's prototypes have ${dim} (encoder ${artifact.encoder.id}). Build the persona with the encoder the artifact was trained with.`,
    );
  }
  const candidates = artifact.prototypes.filter(
    (entry) =>
      (scenario.name === undefined || entry.name === scenario.name) &&
      (scenario.instruction === undefined || entry.instruction === (scenario.instruction || null)),
  );
  const chosen = candidates[0];
  if (!chosen) {
    const names = artifact.prototypes.map((entry) => `"${entry.name}"`).join(', ') || 'none';
    throw new InvalidArgumentError(
      'scenario',
      `The artifact has no prototypes for ${JSON.stringify(scenario)} (it has: ${names}). Train with \`userplug train --objective lamp\` on a classification task, or pick one of its scenarios.`,
    );
  }
  const unit = normalizeInPlace(Float32Array.from(vector));
  const scores = chosen.labels.map((_, row) => {
    let sum = 0;
    for (let column = 0; column < dim; column++) sum += chosen.vectors[row * dim + column]! * unit[column]!;
    return sum / chosen.temperature;
  });
  const maximum = Math.max(...scores);
  const exponentials = scores.map((score) => Math.exp(score - maximum));
  const total = exponentials.reduce((sum, value) => sum + value, 0);
  const probabilities = chosen.labels
    .map((label, row) => ({ label, probability: exponentials[row]! / total }))
    .sort((left, right) => right.probability - left.probability);
  const numeric = chosen.labels.map(Number);
  const result: PrototypeClassification = {
    name: chosen.name,
    label: probabilities[0]!.label,
    probabilities,
  };
  if (numeric.every(Number.isFinite)) {
    result.expected = probabilities.reduce((sum, entry) => sum + entry.probability * Number(entry.label), 0);
  }
  return result;
}
