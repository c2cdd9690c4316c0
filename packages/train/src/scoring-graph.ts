import * as tf from '@tensorflow/tfjs-core';
import type { UserIndex } from '@userplug/core/internal';

/** Added to the logits of what must get no weight (masked items, padding, dropped negatives). */
const masked = -1e9;
/** Similarity given to padding piece slots: below any cosine. */
const paddingSimilarity = -1e4;

/** A user's index as constant tensors, built once per training run. */
export interface UserTensors {
  /** Items. */
  count: number;
  /** Piece slots per item (the most pieces of any item). */
  slots: number;
  /**
   * `[items × slots, dim]`: each item's piece vectors in its slots, zero rows for padding (no gather: its gradient
   * is slow on cpu). In a calibrated index, `(p − mean) · pieceScale`, so a row's dot with the calibrated query is
   * core's whitened cosine.
   */
  slottedPieces: tf.Tensor2D;
  /** `[items × slots, 1]` hubness of each slot's piece (0 for padding), or undefined when the index is not calibrated. */
  slottedHubness: tf.Tensor2D | undefined;
  /** The index's calibration (core's per-user whitening), as tensors. */
  calibration:
    | { mean: tf.Tensor2D; basis: tf.Tensor2D; squaredScaleOffsets: tf.Tensor2D; tailSquared: number }
    | undefined;
  /** `[items, slots, 1]`: 0 for real pieces, a large negative number for padding. */
  paddingMask: tf.Tensor3D;
  /** `[items, 1]`: 1 for items of several pieces (their relevance pools two pieces). */
  multiPiece: tf.Tensor2D;
  /** `[items, dim]` unit item vectors (core's item matrix). */
  items: tf.Tensor2D;
  /** `[items, kinds]` one-hot kind of each item, or undefined when no item has a kind. */
  kindOneHot: tf.Tensor2D | undefined;
  /** `[items, 1]` log(weight), with weight 0 as a large negative number. */
  logWeights: tf.Tensor2D;
}

/** One query against one user's items, with what it must predict. */
export interface ScoringExample {
  /** Position of the user in the run's user list. */
  user: number;
  /** Unit query vector before the learned transform. */
  query: Float32Array;
  /** BM25 of each item for the query text, scaled so the best visible item has 1 (core's lexical score). */
  lexical: Float32Array;
  /** Each item's age in days before the newest visible dated item; NaN when undated. */
  ageDays: Float32Array;
  /** 1 for items the persona may attend to (earlier than the held-out item), 0 otherwise. */
  visible: Uint8Array;
  /** Unit vector the persona should be close to: the held-out item, or the gold output. */
  target: Float32Array;
  /** Examples with equal keys are never each other's negatives (the same item or the same output text). */
  targetKey: string;
  /** Class of the gold output, for the prototype loss. */
  label?: number;
  /** The user's mean item vector, removed from persona and target when the loss centres them. */
  centre?: Float32Array;
}

/** How the scores are pooled and shaped (from core's attention settings). */
export interface GraphSettings {
  /** Core's piece pooling: best piece, or mean of the best two. */
  piecePooling: 'max' | 'top2';
}

/** Builds a user's constant tensors; `kindIds` are run-wide kind ids (-1 for none). */
export function buildUserTensors(index: UserIndex, kindIds: Int32Array, kindCount: number): UserTensors {
  const count = index.items.length;
  const dim = index.dimension;
  let slots = 1;
  for (let item = 0; item < count; item++) {
    slots = Math.max(slots, index.pieceStart[item + 1]! - index.pieceStart[item]!);
  }
  const slotted = new Float32Array(count * slots * dim);
  const padding = new Float32Array(count * slots).fill(paddingSimilarity);
  const multi = new Float32Array(count);
  const calibration = index.calibration;
  const hubness = new Float32Array(count * slots);
  for (let item = 0; item < count; item++) {
    const first = index.pieceStart[item]!;
    const pieces = index.pieceStart[item + 1]! - first;
    slotted.set(index.pieceMatrix.subarray(first * dim, (first + pieces) * dim), item * slots * dim);
    if (calibration) {
      for (let piece = 0; piece < pieces; piece++) {
        const row = (item * slots + piece) * dim;
        const scale = calibration.pieceScales[first + piece]!;
        for (let column = 0; column < dim; column++)
          slotted[row + column] = (slotted[row + column]! - calibration.mean[column]!) * scale;
        hubness[item * slots + piece] = calibration.hubness[first + piece]!;
      }
    }
    padding.fill(0, item * slots, item * slots + pieces);
    multi[item] = pieces > 1 ? 1 : 0;
  }
  const logWeights = Float32Array.from(index.logWeights, (value) =>
    Number.isFinite(value) ? value : masked,
  );
  let kindOneHot: tf.Tensor2D | undefined;
  if (kindCount > 0) {
    const oneHot = new Float32Array(count * kindCount);
    kindIds.forEach((kind, item) => {
      if (kind >= 0) oneHot[item * kindCount + kind] = 1;
    });
    kindOneHot = tf.tensor2d(oneHot, [count, kindCount]);
  }
  return {
    count,
    slots,
    slottedPieces: tf.tensor2d(slotted, [count * slots, dim]),
    slottedHubness: calibration ? tf.tensor2d(hubness, [count * slots, 1]) : undefined,
    calibration: calibration
      ? {
          mean: tf.tensor2d(calibration.mean, [1, dim]),
          basis: tf.tensor2d(calibration.basis.slice(0, calibration.rank * dim), [calibration.rank, dim]),
          squaredScaleOffsets: tf.tensor2d(calibration.basisSquaredScaleOffsets, [1, calibration.rank]),
          tailSquared: calibration.tailScale * calibration.tailScale,
        }
      : undefined,
    paddingMask: tf.tensor3d(padding, [count, slots, 1]),
    multiPiece: tf.tensor2d(multi, [count, 1]),
    items: tf.tensor2d(index.itemMatrix.slice(0, count * dim), [count, dim]),
    kindOneHot,
    logWeights: tf.tensor2d(logWeights, [count, 1]),
  };
}

/** Frees a user's tensors. */
export function disposeUserTensors(user: UserTensors): void {
  tf.dispose([user.slottedPieces, user.paddingMask, user.multiPiece, user.items, user.logWeights]);
  if (user.kindOneHot) user.kindOneHot.dispose();
  if (user.slottedHubness) user.slottedHubness.dispose();
  if (user.calibration)
    tf.dispose([user.calibration.mean, user.calibration.basis, user.calibration.squaredScaleOffsets]);
}

/**
 * Core's query calibration (`calibrateQuery`) as a graph: `v = W²(q − m) / ‖W(q − m)‖`, with
 * `W² = t²I + Bᵀ diag(s) B`; a slot row `(p − m)·scale` dotted with `v` is the whitened cosine.
 */
function calibrateQueries(
  calibration: NonNullable<UserTensors['calibration']>,
  queries: tf.Tensor2D,
): tf.Tensor2D {
  const centred = tf.sub(queries, calibration.mean);
  const projections = tf.matMul(centred, calibration.basis, false, true);
  const weighted = tf.mul(projections, calibration.squaredScaleOffsets);
  const mapped = tf.add(tf.mul(centred, calibration.tailSquared), tf.matMul(weighted, calibration.basis));
  const whitenedSquared = tf.add(
    tf.mul(tf.sum(tf.square(centred), 1, true), calibration.tailSquared),
    tf.sum(tf.mul(weighted, projections), 1, true),
  );
  return tf.div(mapped, tf.sqrt(tf.add(whitenedSquared, 1e-24))) as tf.Tensor2D;
}

function normalizeRows(matrix: tf.Tensor2D): tf.Tensor2D {
  return tf.div(matrix, tf.sqrt(tf.add(tf.sum(tf.square(matrix), 1, true), 1e-12))) as tf.Tensor2D;
}

/**
 * The learned query side, `[batch, dim]` → `[batch, dim]`: `q₁ = q + e`, `q₁ += softmax(q₁Sᵀ)S`,
 * `q' = normalize(q₁ + (q₁V)Uᵀ)` — core's `transformTrainedQuery`.
 */
export function transformQueries(parameters: Record<string, tf.Tensor>, queries: tf.Tensor2D): tf.Tensor2D {
  let current: tf.Tensor2D = queries;
  const instruction = parameters.instruction;
  if (instruction) current = tf.add(current, tf.reshape(instruction, [1, -1])) as tf.Tensor2D;
  const softPrompt = parameters.softPrompt as tf.Tensor2D | undefined;
  if (softPrompt && softPrompt.shape[0]! > 0) {
    const attention = tf.softmax(tf.matMul(current, softPrompt, false, true));
    current = tf.add(current, tf.matMul(attention, softPrompt)) as tf.Tensor2D;
  }
  const u = parameters.u as tf.Tensor2D | undefined;
  const v = parameters.v as tf.Tensor2D | undefined;
  if (u && v && u.shape[1]! > 0)
    current = tf.add(current, tf.matMul(tf.matMul(current, v), u, false, true)) as tf.Tensor2D;
  return normalizeRows(current);
}

function columns(
  examples: readonly ScoringExample[],
  count: number,
  pick: (example: ScoringExample, item: number) => number,
): Float32Array {
  const values = new Float32Array(count * examples.length);
  examples.forEach((example, column) => {
    for (let item = 0; item < count; item++) values[item * examples.length + column] = pick(example, item);
  });
  return values;
}

function rowsOf(
  examples: readonly ScoringExample[],
  pick: (example: ScoringExample) => Float32Array,
): tf.Tensor2D {
  const dim = pick(examples[0]!).length;
  const values = new Float32Array(examples.length * dim);
  examples.forEach((example, row) => {
    values.set(pick(example), row * dim);
  });
  return tf.tensor2d(values, [examples.length, dim]);
}

/** Personas of a batch, and the examples in the same (grouped by user) order. */
export interface PersonaBatch {
  /** `[batch, dim]` unit personas. */
  personas: tf.Tensor2D;
  /** The examples, grouped by user: row `i` of `personas` belongs to `examples[i]`. */
  examples: ScoringExample[];
}

/**
 * The query-aware persona of each example (unit rows): core's `embedUser` as a differentiable graph,
 * `s_i = (sim_i + λ·bm25_i)/τ + r·2^(−age_i/h) + kind_i + log(weight_i)`, `w = softmax(s)` over the
 * visible items, `P = normalize(Σ w_i h_i)`, where `sim_i` pools the item's piece similarities (cosines, or in a
 * calibrated index whitened cosines minus `hubnessWeight` × hubness). Examples come back grouped by user.
 */
export function personaGraph(
  parameters: Record<string, tf.Tensor>,
  users: readonly UserTensors[],
  examples: readonly ScoringExample[],
  settings: GraphSettings,
): PersonaBatch {
  const groups = new Map<number, ScoringExample[]>();
  for (const example of examples) {
    const group = groups.get(example.user) ?? [];
    group.push(example);
    groups.set(example.user, group);
  }
  const temperature = tf.exp(parameters.logTemperature!);
  const halfLife = tf.exp(parameters.logHalfLife!);
  const parts: tf.Tensor2D[] = [];
  const ordered: ScoringExample[] = [];
  for (const [userPosition, group] of groups) {
    const user = users[userPosition]!;
    const batch = group.length;
    const count = user.count;
    const queries = transformQueries(
      parameters,
      rowsOf(group, (example) => example.query),
    );
    // Similarities of every item slot (core's pieceSimilarities): [items, slots, batch].
    let similarities: tf.Tensor = user.calibration
      ? tf.matMul(user.slottedPieces, calibrateQueries(user.calibration, queries), false, true)
      : tf.matMul(user.slottedPieces, queries, false, true);
    if (user.slottedHubness && parameters.hubnessWeight) {
      similarities = tf.sub(similarities, tf.mul(user.slottedHubness, parameters.hubnessWeight));
    }
    const slotted = tf.add(tf.reshape(similarities, [count, user.slots, batch]), user.paddingMask);
    const best = tf.max(slotted, 1);
    let relevance: tf.Tensor = best;
    if (settings.piecePooling === 'top2' && user.slots > 1) {
      const bestSlot = tf.transpose(
        tf.cast(tf.oneHot(tf.argMax(slotted, 1), user.slots), 'float32'),
        [0, 2, 1],
      );
      const second = tf.max(tf.sub(slotted, tf.mul(bestSlot, 1e5)), 1);
      const half = tf.mul(user.multiPiece, 0.5);
      relevance = tf.add(tf.mul(best, tf.sub(1, half)), tf.mul(second, half));
    }
    const lexical = tf.tensor2d(
      columns(group, count, (example, item) => example.lexical[item]!),
      [count, batch],
    );
    const ages = columns(group, count, (example, item) => example.ageDays[item]!);
    const dated = tf.tensor2d(
      Float32Array.from(ages, (age) => (Number.isNaN(age) ? 0 : 1)),
      [count, batch],
    );
    const age = tf.tensor2d(
      Float32Array.from(ages, (value) => (Number.isNaN(value) ? 0 : value)),
      [count, batch],
    );
    const visibility = tf.tensor2d(
      columns(group, count, (example, item) => (example.visible[item] ? 0 : masked)),
      [count, batch],
    );
    let scores = tf.div(tf.add(relevance, tf.mul(lexical, parameters.lexicalWeight!)), temperature);
    const recency = tf.exp(tf.mul(tf.div(age, halfLife), -Math.LN2));
    scores = tf.add(scores, tf.mul(tf.mul(recency, dated), parameters.recencyWeight!));
    if (user.kindOneHot && parameters.kindPriors) {
      scores = tf.add(scores, tf.matMul(user.kindOneHot, tf.reshape(parameters.kindPriors, [-1, 1])));
    }
    scores = tf.add(tf.add(scores, user.logWeights), visibility);
    const weights = tf.softmax(tf.transpose(scores));
    parts.push(normalizeRows(tf.matMul(weights, user.items) as tf.Tensor2D));
    ordered.push(...group);
  }
  const personas = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tf.Tensor2D);
  return { personas, examples: ordered };
}

/**
 * InfoNCE between personas and targets over the batch (`τ` = 0.07 in Query-as-Anchor): each persona's own
 * target against every other target, except those with the same key and likely false negatives (a
 * negative more similar to the persona than its own target plus `margin`, Query-as-Anchor's 0.1 mask).
 * With `centre`, both sides are compared after removing the user's mean item vector.
 */
export function contrastiveLoss(
  personas: tf.Tensor2D,
  examples: readonly ScoringExample[],
  settings: { temperature: number; margin: number; centre?: boolean },
): tf.Scalar {
  const batch = examples.length;
  let targets: tf.Tensor2D = rowsOf(examples, (example) => example.target);
  let compared = personas;
  if (settings.centre) {
    // Each user's mean item vector removed from both sides: with few users, raw vectors mostly tell users apart.
    const centres = rowsOf(examples, (example) => example.centre ?? new Float32Array(example.target.length));
    compared = normalizeRows(tf.sub(personas, centres) as tf.Tensor2D);
    targets = normalizeRows(tf.sub(targets, centres) as tf.Tensor2D);
  }
  const similarities = tf.matMul(compared, targets, false, true);
  const identity = tf.eye(batch);
  const own = tf.sum(tf.mul(similarities, identity), 1, true);
  const sameKey = new Float32Array(batch * batch);
  examples.forEach((left, row) => {
    examples.forEach((right, column) => {
      if (row !== column && left.targetKey === right.targetKey) sameKey[row * batch + column] = 1;
    });
  });
  const falseNegative = tf.mul(
    tf.cast(tf.greater(similarities, tf.add(own, settings.margin)), 'float32'),
    tf.sub(1, identity),
  );
  const drop = tf.add(falseNegative, tf.tensor2d(sameKey, [batch, batch]));
  const logits = tf.add(tf.div(similarities, settings.temperature), tf.mul(drop, masked));
  const logProbabilities = tf.logSoftmax(logits);
  return tf.div(tf.neg(tf.sum(tf.mul(logProbabilities, identity))), batch) as tf.Scalar;
}

/** Cross-entropy of the personas' classes against unit prototypes (Query-as-Anchor's prototypical loss). */
export function prototypeLoss(
  parameters: Record<string, tf.Tensor>,
  personas: tf.Tensor2D,
  examples: readonly ScoringExample[],
): tf.Scalar | undefined {
  const prototypes = parameters.prototypes as tf.Tensor2D | undefined;
  const labelled = examples.filter((example) => example.label !== undefined).length;
  if (!prototypes || prototypes.shape[0]! === 0 || labelled === 0) return undefined;
  const classes = prototypes.shape[0]!;
  // One-hot rows of the gold classes; unlabelled examples get a zero row and add nothing.
  const targets = new Float32Array(examples.length * classes);
  examples.forEach((example, row) => {
    if (example.label !== undefined) targets[row * classes + example.label] = 1;
  });
  const logits = tf.div(
    tf.matMul(personas, normalizeRows(prototypes), false, true),
    tf.exp(parameters.logPrototypeTemperature!),
  );
  const picked = tf.mul(tf.logSoftmax(logits), tf.tensor2d(targets, [examples.length, classes]));
  return tf.div(tf.neg(tf.sum(picked)), labelled) as tf.Scalar;
}
