import { plainLabel, quoteUntrusted } from './quote-untrusted.js';
import type { PersonaDescriptor, PersonaFact } from './render-persona.js';
import { stem } from './text-terms.js';
import type { UserIndex } from './user-index.js';
import { dotRow } from './vector-math.js';

function formatMonth(timestamp: number): string {
  return new Date(timestamp).toISOString().slice(0, 10);
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/**
 * Descriptors: the user's own key phrases ranked by similarity to a persona vector, with a small
 * bonus for phrases that recur across many items.
 */
export function rankDescriptors(index: UserIndex, vector: Float32Array, limit: number): PersonaDescriptor[] {
  const count = index.phraseMatrix.length / index.dimension;
  const ranked: PersonaDescriptor[] = [];
  for (let row = 0; row < count; row++) {
    const phrase = index.phrases[row]!;
    const score = dotRow(index.phraseMatrix, row, vector) + 0.03 * Math.log(phrase.itemCount);
    ranked.push({ phrase: phrase.phrase, score, itemCount: phrase.itemCount });
  }
  ranked.sort((left, right) => right.score - left.score);
  const chosen: PersonaDescriptor[] = [];
  const chosenStems: string[] = [];
  for (const descriptor of ranked) {
    if (chosen.length >= limit) break;
    // "trail running" and "running", or "mountain" and "mountains", say the same thing twice.
    const stems = ` ${descriptor.phrase.split(' ').map(stem).join(' ')} `;
    if (chosenStems.some((kept) => kept.includes(stems) || stems.includes(kept))) continue;
    chosen.push(descriptor);
    chosenStems.push(stems);
  }
  return chosen;
}

/** Query-independent facts from typed signals, one line each, untrusted values quoted. */
export function profileFacts(index: UserIndex): string[] {
  const { signals } = index;
  const facts: string[] = [];
  const kinds = signals.kinds
    .slice(0, 3)
    .map((kind) => `${kind.count} ${plainLabel(kind.value)}`)
    .join(', ');
  const span = signals.timeSpan
    ? `, ${formatMonth(signals.timeSpan.first)} to ${formatMonth(signals.timeSpan.last)}`
    : '';
  facts.push(`History: ${signals.itemCount} items${kinds.length > 0 ? ` (${kinds})` : ''}${span}.`);
  if (signals.ratings) {
    const { mean, count, minimum, maximum } = signals.ratings;
    facts.push(
      `Ratings: average ${round(mean)} over ${count} rated items (lowest ${minimum}, highest ${maximum}).`,
    );
  }
  if (signals.labels.length > 0) {
    const labels = signals.labels
      .slice(0, 6)
      .map((label) => `${quoteUntrusted(label.value)} ×${label.count}`)
      .join(', ');
    facts.push(`Frequent labels: ${labels}.`);
  }
  return facts;
}

/** Facts about the items the query attends to: their rating and label mix, with the attention mass each covers. */
export function relevantFacts(index: UserIndex, weights: Float64Array): PersonaFact[] {
  const facts: PersonaFact[] = [];
  let ratedMass = 0;
  let ratingSum = 0;
  let labeledMass = 0;
  const labelMass = new Float64Array(index.labelNames.length);
  const { ratings, labelIds } = index;
  for (let row = 0; row < weights.length; row++) {
    const weight = weights[row]!;
    const rating = ratings[row]!;
    if (!Number.isNaN(rating)) {
      ratedMass += weight;
      ratingSum += weight * rating;
    }
    const label = labelIds[row]!;
    if (label >= 0) {
      labeledMass += weight;
      labelMass[label] = labelMass[label]! + weight;
    }
  }
  if (index.signals.ratings && ratedMass >= 0.2) {
    facts.push({
      text: `Relevance-weighted rating of the relevant items: ${round(ratingSum / ratedMass)}.`,
      signal: 'rating',
      mass: ratedMass,
    });
  }
  if (labeledMass >= 0.2) {
    const labels = [...labelMass.keys()]
      .filter((label) => labelMass[label]! / labeledMass >= 0.05)
      .sort((left, right) => labelMass[right]! - labelMass[left]!)
      .slice(0, 4)
      .map(
        (label) =>
          `${quoteUntrusted(index.labelNames[label]!)} ${Math.round((100 * labelMass[label]!) / labeledMass)}%`,
      );
    if (labels.length > 0)
      facts.push({
        text: `Labels of the most relevant items: ${labels.join(', ')}.`,
        signal: 'label',
        mass: labeledMass,
      });
  }
  return facts;
}
