import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionSettings,
  InvalidArgumentError,
  type TrainedArtifact,
  UserplugError,
} from '@userplug/core';
import {
  type buildUserIndex,
  createSeededRandom,
  mixSeed,
  resolveAttentionSettings,
} from '@userplug/core/internal';
import { type EpochSummary, readCheckpoint, type TrainingCheckpoint, writeCheckpoint } from './checkpoint.js';
import { AdamOptimizer, cloneParameters, type ParameterSet } from './parameter-set.js';
import type { PreparedUsers } from './prepare-users.js';
import {
  buildUserTensors,
  contrastiveLoss,
  disposeUserTensors,
  type GraphSettings,
  personaGraph,
  prototypeLoss,
  type ScoringExample,
  type UserTensors,
} from './scoring-graph.js';
import { type TrainingBackend, withTrainingBackend } from './training-backend.js';

/** Settings of core's user index (`buildUserIndex`'s last argument). */
export type IndexSettings = NonNullable<Parameters<typeof buildUserIndex>[3]>;

/** Which parts are learned. Every field defaults to true (parts a run does not have are skipped). */
export interface LearnedParts {
  /** The low-rank query transform `U Vᵀ`. */
  queryTransform?: boolean;
  /** The instruction embedding (InstructUE). */
  instruction?: boolean;
  /** Softmax temperature τ. */
  temperature?: boolean;
  /** Weight of the lexical score. */
  lexicalWeight?: boolean;
  /** Recency weight and half-life. */
  recency?: boolean;
  /** Per-kind logit offsets. */
  kindPriors?: boolean;
  /** Scenario soft prompt vectors. */
  softPrompt?: boolean;
  /** Class prototypes and their temperature. */
  prototypes?: boolean;
  /** Weight of the hubness penalty (users whose index core calibrates). */
  hubnessWeight?: boolean;
}

/** Hyper-parameters shared by every objective. Every field has a default. */
export interface TrainingSettings {
  /** Passes over the training examples. Default 5. */
  epochs?: number;
  /** Seed of the initialization, the example draws and the batch order. Default 1. */
  seed?: number;
  /** Examples per optimizer step; a step's InfoNCE negatives are the other examples of its batch. Default 32. */
  batchSize?: number;
  /** Adam learning rate. Default 0.003. */
  learningRate?: number;
  /** Rank of the query transform; 0 learns none. Default 4. */
  rank?: number;
  /** Decoupled weight decay (AdamW) of the query transform, instruction embedding and soft prompt. Default 0.1. */
  weightDecay?: number;
  /** InfoNCE temperature. Default 0.07 (Query-as-Anchor). */
  contrastiveTemperature?: number;
  /** Margin of the false-negative mask. Default 0.1 (Query-as-Anchor). */
  margin?: number;
  /**
   * Compare persona and target after removing the user's mean item vector (`user`), or as they are (`none`,
   * Query-as-Anchor). With few users in a batch, raw vectors mostly tell users apart. Default `none`.
   */
  contrastiveCentring?: 'none' | 'user';
  /** Share of the examples (LaMP: of the users) held out to pick the best epoch. Default 0.1. */
  validationFraction?: number;
  /** Which parts are learned. Default: all. */
  learn?: LearnedParts;
  /** Starting attention settings: the untrained baseline. Default: core's defaults. */
  attention?: AttentionSettings;
  /** The instruction whose embedding is learned; `null` for requests without one. Default null. */
  instruction?: string | null;
  /** Scenario soft prompt vectors. Default 0 (6 for classification data, as Query-as-Anchor). */
  softPromptTokens?: number;
  /** Weight of the prototype loss next to the contrastive one. Default 1. */
  prototypeLossWeight?: number;
  /** The personalizer's index settings (core's per-user calibration), so training builds users' indexes as it does. Default: core's. */
  index?: IndexSettings;
  /** TF.js backend: `wasm` (WebAssembly SIMD, about twice as fast) or `cpu`. Default `wasm`. */
  backend?: TrainingBackend;
}

/** Progress of a run, reported after every step. */
export interface TrainingProgress {
  /** 1-based epoch in progress. */
  epoch: number;
  epochs: number;
  /** Optimizer steps done, and in all. */
  step: number;
  steps: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Training examples per second over this session. */
  examplesPerSecond: number;
  /** Estimated seconds left. */
  etaSeconds: number;
  /** The last validation loss. */
  validationLoss?: number;
}

/** How a run is driven: checkpoints, cancellation, progress. */
export interface RunControl {
  /** Checkpoint file: written every `checkpointEverySeconds` and at each epoch's end; a run with the same data and settings resumes from it. */
  checkpointFile?: string;
  /** Seconds between checkpoints. Default 30. */
  checkpointEverySeconds?: number;
  /** Stops after the step in progress; a checkpoint is written first. */
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
}

/** What a run returns. */
export interface TrainingResult {
  /** The artifact with the parameters of the best epoch by validation loss (epoch 0: training did not help). */
  artifact: TrainedArtifact;
  /** Per-epoch losses; entry 0 is the untrained baseline. */
  history: EpochSummary[];
  /** Epoch whose parameters the artifact holds. */
  bestEpoch: number;
  /** Step the run resumed from, when it continued a checkpoint. */
  resumedFromStep?: number;
  /** Training and validation examples. */
  examples: { train: number; validation: number };
}

/** Training was stopped through its signal; the checkpoint holds its progress. */
export class TrainingAbortedError extends UserplugError {
  override readonly name = 'UserplugTrainingAbortedError';
  /** Steps done before it stopped. */
  readonly step: number;

  constructor(step: number, checkpointFile: string | undefined) {
    super(
      `Training stopped after step ${step}.${checkpointFile ? ` Its checkpoint is ${checkpointFile}: run the same command again to continue.` : ''}`,
    );
    this.step = step;
  }

  static override isInstance(error: unknown): error is TrainingAbortedError {
    return UserplugError.isInstance(error) && error.name === 'UserplugTrainingAbortedError';
  }
}

/** Settings with every default filled in. */
export type ResolvedTrainingSettings = Required<Omit<TrainingSettings, 'attention' | 'learn' | 'index'>> & {
  index: IndexSettings;
  attention: Required<AttentionSettings>;
  learn: Required<LearnedParts>;
};

/** Fills in every default and checks the values. */
export function resolveTrainingSettings(
  settings: TrainingSettings,
  defaults: { softPromptTokens: number },
): ResolvedTrainingSettings {
  const resolved: ResolvedTrainingSettings = {
    epochs: settings.epochs ?? 5,
    seed: settings.seed ?? 1,
    batchSize: settings.batchSize ?? 32,
    learningRate: settings.learningRate ?? 0.003,
    rank: settings.rank ?? 4,
    weightDecay: settings.weightDecay ?? 0.1,
    contrastiveTemperature: settings.contrastiveTemperature ?? 0.07,
    margin: settings.margin ?? 0.1,
    contrastiveCentring: settings.contrastiveCentring ?? 'none',
    validationFraction: settings.validationFraction ?? 0.1,
    attention: resolveAttentionSettings(settings.attention),
    instruction: settings.instruction ?? null,
    softPromptTokens: settings.softPromptTokens ?? defaults.softPromptTokens,
    prototypeLossWeight: settings.prototypeLossWeight ?? 1,
    backend: settings.backend ?? 'wasm',
    index: settings.index ?? {},
    learn: {
      queryTransform: true,
      instruction: true,
      temperature: true,
      lexicalWeight: true,
      recency: true,
      kindPriors: true,
      softPrompt: true,
      prototypes: true,
      hubnessWeight: true,
      ...settings.learn,
    },
  };
  const wholes: [string, number, number][] = [
    ['epochs', resolved.epochs, 0],
    ['batchSize', resolved.batchSize, 2],
    ['rank', resolved.rank, 0],
    ['softPromptTokens', resolved.softPromptTokens, 0],
  ];
  for (const [name, value, minimum] of wholes) {
    if (!Number.isInteger(value) || value < minimum) {
      throw new InvalidArgumentError(name, `${name} must be a whole number ≥ ${minimum}, got ${value}.`);
    }
  }
  if (!(resolved.learningRate > 0)) {
    throw new InvalidArgumentError('learningRate', `learningRate must be > 0, got ${resolved.learningRate}.`);
  }
  if (!(resolved.validationFraction >= 0 && resolved.validationFraction < 1)) {
    throw new InvalidArgumentError(
      'validationFraction',
      `validationFraction must be in [0, 1), got ${resolved.validationFraction}.`,
    );
  }
  return resolved;
}

/** A run, ready to train. */
export interface TrainingPlan {
  objective: string;
  prepared: PreparedUsers;
  train: ScoringExample[];
  validation: ScoringExample[];
  settings: ResolvedTrainingSettings;
  /** Prototype classes (names), when the data is classification-style. */
  classes?: { name: string; labels: string[] };
  /** Whatever else identifies the data (file names, task), mixed into the checkpoint fingerprint. */
  dataKey: string;
  /** Facts to store in the artifact's metadata. */
  metadata: Record<string, unknown>;
}

function initialParameters(plan: TrainingPlan): ParameterSet {
  const { settings, prepared } = plan;
  const dim = prepared.encoder.dim;
  const random = createSeededRandom(mixSeed(settings.seed, 'init'));
  const scale = 1 / Math.sqrt(dim);
  const attention = settings.attention;
  const values: Record<string, Float32Array> = {
    u: new Float32Array(dim * settings.rank),
    v: Float32Array.from({ length: dim * settings.rank }, () => random.normal() * scale),
    instruction: new Float32Array(dim),
    softPrompt: new Float32Array(settings.softPromptTokens * dim),
    logTemperature: Float32Array.of(Math.log(attention.temperature)),
    lexicalWeight: Float32Array.of(attention.lexicalWeight),
    recencyWeight: Float32Array.of(attention.recencyWeight),
    logHalfLife: Float32Array.of(Math.log(attention.recencyHalfLifeDays)),
    kindPriors: Float32Array.from(prepared.kindNames, (kind) => attention.kindPriors[kind] ?? 0),
    prototypes: new Float32Array((plan.classes?.labels.length ?? 0) * dim),
    logPrototypeTemperature: Float32Array.of(Math.log(0.1)),
    hubnessWeight: Float32Array.of(attention.hubnessWeight),
  };
  const shapes: Record<string, number[]> = {
    u: [dim, settings.rank],
    v: [dim, settings.rank],
    instruction: [dim],
    softPrompt: [settings.softPromptTokens, dim],
    logTemperature: [],
    lexicalWeight: [],
    recencyWeight: [],
    logHalfLife: [],
    kindPriors: [prepared.kindNames.length],
    prototypes: [plan.classes?.labels.length ?? 0, dim],
    logPrototypeTemperature: [],
    hubnessWeight: [],
  };
  return { values, shapes };
}

/** Whether core calibrates (whitens) any user's index: only then is the hubness weight used. */
function calibrated(plan: TrainingPlan): boolean {
  return plan.prepared.users.some((user) => user.index.calibration !== undefined);
}

function trainableNames(plan: TrainingPlan, parameters: ParameterSet): string[] {
  const { learn } = plan.settings;
  const wanted: Record<string, boolean> = {
    u: learn.queryTransform,
    v: learn.queryTransform,
    instruction: learn.instruction,
    softPrompt: learn.softPrompt,
    logTemperature: learn.temperature,
    lexicalWeight: learn.lexicalWeight,
    recencyWeight: learn.recency,
    logHalfLife: learn.recency,
    kindPriors: learn.kindPriors,
    prototypes: learn.prototypes,
    logPrototypeTemperature: learn.prototypes,
    hubnessWeight: learn.hubnessWeight && calibrated(plan),
  };
  const hasPrototypes = parameters.values.prototypes!.length > 0;
  return Object.keys(parameters.values).filter(
    (name) =>
      wanted[name] &&
      parameters.values[name]!.length > 0 &&
      (name !== 'logPrototypeTemperature' || hasPrototypes),
  );
}

function toTensors(parameters: ParameterSet): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(parameters.values).map(([name, values]) => [
      name,
      tf.tensor(values, parameters.shapes[name]!),
    ]),
  );
}

/** Keeps scalars where core accepts them (τ > 0 is kept by its log; λ ≥ 0; half-life 1 day to 100 years). */
function clampParameters(parameters: ParameterSet): void {
  const { values } = parameters;
  values.logTemperature![0] = Math.min(Math.max(values.logTemperature![0]!, Math.log(0.002)), Math.log(2));
  values.lexicalWeight![0] = Math.max(values.lexicalWeight![0]!, 0);
  values.logHalfLife![0] = Math.min(Math.max(values.logHalfLife![0]!, 0), Math.log(36_500));
  values.logPrototypeTemperature![0] = Math.min(
    Math.max(values.logPrototypeTemperature![0]!, Math.log(0.01)),
    0,
  );
  values.hubnessWeight![0] = Math.max(values.hubnessWeight![0]!, 0);
}

function batches(count: number, size: number, seed: number, epoch: number): number[][] {
  const order = createSeededRandom(mixSeed(seed, 'batches', epoch)).shuffle(
    Array.from({ length: count }, (_, index) => index),
  );
  const result: number[][] = [];
  for (let start = 0; start < count; start += size) result.push(order.slice(start, start + size));
  // A lone last example has no negatives: it joins the batch before it.
  if (result.length > 1 && result.at(-1)!.length === 1) result.at(-2)!.push(...result.pop()!);
  return result.filter((batch) => batch.length >= 2);
}

function lossOf(
  parameters: Record<string, tf.Tensor>,
  users: readonly UserTensors[],
  examples: readonly ScoringExample[],
  plan: TrainingPlan,
  graph: GraphSettings,
): { loss: tf.Scalar; personas: tf.Tensor2D; examples: ScoringExample[] } {
  const batch = personaGraph(parameters, users, examples, graph);
  let loss = contrastiveLoss(batch.personas, batch.examples, {
    temperature: plan.settings.contrastiveTemperature,
    margin: plan.settings.margin,
    centre: plan.settings.contrastiveCentring === 'user',
  });
  const prototypes = prototypeLoss(parameters, batch.personas, batch.examples);
  if (prototypes) loss = tf.add(loss, tf.mul(prototypes, plan.settings.prototypeLossWeight)) as tf.Scalar;
  return { loss, ...batch };
}

/** Personas of examples under the given parameters, in the order of `examples`. */
export function computePersonas(
  parameters: ParameterSet,
  users: readonly UserTensors[],
  examples: readonly ScoringExample[],
  graph: GraphSettings,
  batchSize = 64,
): Float32Array[] {
  const result = new Array<Float32Array>(examples.length);
  const position = new Map(examples.map((example, index) => [example, index]));
  for (let start = 0; start < examples.length; start += batchSize) {
    const slice = examples.slice(start, start + batchSize);
    tf.tidy(() => {
      const batch = personaGraph(toTensors(parameters), users, slice, graph);
      const values = batch.personas.dataSync();
      const dim = values.length / slice.length;
      batch.examples.forEach((example, row) => {
        result[position.get(example)!] = Float32Array.from(values.subarray(row * dim, (row + 1) * dim));
      });
    });
  }
  return result;
}

function evaluate(
  parameters: ParameterSet,
  users: readonly UserTensors[],
  examples: readonly ScoringExample[],
  plan: TrainingPlan,
  graph: GraphSettings,
): { loss: number; accuracy: number } {
  if (examples.length < 2) return { loss: Number.NaN, accuracy: Number.NaN };
  let lossSum = 0;
  let correct = 0;
  let counted = 0;
  for (const indices of batches(examples.length, plan.settings.batchSize, 0, -1)) {
    const slice = indices.map((index) => examples[index]!);
    tf.tidy(() => {
      const { loss, personas, examples: ordered } = lossOf(toTensors(parameters), users, slice, plan, graph);
      lossSum += loss.dataSync()[0]! * ordered.length;
      const dim = ordered[0]!.target.length;
      const targets = new Float32Array(ordered.length * dim);
      ordered.forEach((example, row) => {
        targets.set(example.target, row * dim);
      });
      const similarities = tf.matMul(personas, tf.tensor2d(targets, [ordered.length, dim]), false, true);
      tf.argMax(similarities, 1)
        .dataSync()
        .forEach((column, row) => {
          if (column === row || ordered[column]!.targetKey === ordered[row]!.targetKey) correct++;
        });
      counted += ordered.length;
    });
  }
  return { loss: lossSum / counted, accuracy: correct / counted };
}

function fingerprintOf(plan: TrainingPlan): string {
  const { epochs: _epochs, ...settings } = plan.settings;
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([plan.objective, plan.dataKey, settings, plan.prepared.encoder, plan.classes ?? null]),
  );
  for (const user of plan.prepared.users) {
    hash.update(user.userId);
    for (const item of user.index.items) hash.update(item.itemHash);
  }
  hash.update(String(plan.train.length));
  hash.update(String(plan.validation.length));
  return hash.digest('hex');
}

/** Artifact from parameters. */
export function artifactFrom(
  plan: TrainingPlan,
  parameters: ParameterSet,
  metadata: Record<string, unknown>,
): TrainedArtifact {
  const { values } = parameters;
  const { settings, prepared } = plan;
  const dim = prepared.encoder.dim;
  const learn = settings.learn;
  const attention: TrainedArtifact['attention'] = {};
  if (learn.temperature) attention.temperature = Math.exp(values.logTemperature![0]!);
  if (learn.lexicalWeight) attention.lexicalWeight = values.lexicalWeight![0]!;
  if (learn.recency) {
    attention.recencyWeight = values.recencyWeight![0]!;
    attention.recencyHalfLifeDays = Math.exp(values.logHalfLife![0]!);
  }
  if (learn.hubnessWeight && calibrated(plan)) attention.hubnessWeight = values.hubnessWeight![0]!;
  if (learn.kindPriors && prepared.kindNames.length > 0) {
    attention.kindPriors = Object.fromEntries(
      prepared.kindNames.map((kind, id) => [kind, values.kindPriors![id]!]),
    );
  }
  const instruction: TrainedArtifact['instructions'][number] = { instruction: settings.instruction };
  if (learn.instruction) instruction.embedding = values.instruction!.slice();
  if (learn.softPrompt && settings.softPromptTokens > 0) instruction.softPrompt = values.softPrompt!.slice();
  const artifact: TrainedArtifact = {
    encoder: prepared.encoder,
    objective: plan.objective,
    createdAt: new Date().toISOString(),
    hyperParameters: {
      epochs: settings.epochs,
      seed: settings.seed,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      rank: settings.rank,
      weightDecay: settings.weightDecay,
      contrastiveTemperature: settings.contrastiveTemperature,
      margin: settings.margin,
      contrastiveCentring: settings.contrastiveCentring,
      validationFraction: settings.validationFraction,
      softPromptTokens: settings.softPromptTokens,
      prototypeLossWeight: settings.prototypeLossWeight,
      piecePooling: settings.attention.piecePooling,
      learned: Object.entries(learn)
        .filter(([, on]) => on)
        .map(([part]) => part)
        .join(','),
    },
    attention,
    instructions: instruction.embedding || instruction.softPrompt ? [instruction] : [],
    prototypes: [],
    metadata: { ...plan.metadata, ...metadata },
  };
  if (learn.queryTransform && settings.rank > 0) {
    artifact.queryTransform = { rank: settings.rank, u: values.u!.slice(), v: values.v!.slice() };
  }
  if (plan.classes && plan.classes.labels.length > 0) {
    const prototypes = values.prototypes!.slice();
    for (let row = 0; row < plan.classes.labels.length; row++) {
      let norm = 0;
      for (let column = 0; column < dim; column++) norm += prototypes[row * dim + column]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let column = 0; column < dim; column++) prototypes[row * dim + column]! /= norm;
    }
    artifact.prototypes.push({
      name: plan.classes.name,
      instruction: settings.instruction,
      labels: plan.classes.labels,
      vectors: prototypes,
      temperature: Math.exp(values.logPrototypeTemperature![0]!),
    });
  }
  return artifact;
}

/**
 * Trains the plan's parameters with Adam through TF.js autodiff, keeping the epoch with the lowest
 * validation loss (epoch 0, the untrained start, included). Deterministic for a seed on one machine;
 * with a checkpoint file it resumes exactly where a killed run stopped.
 */
export async function runTraining(
  plan: TrainingPlan,
  control: RunControl = {},
  initialize?: (parameters: ParameterSet, users: readonly UserTensors[], graph: GraphSettings) => void,
): Promise<TrainingResult> {
  const { settings } = plan;
  if (plan.train.length < 2) {
    throw new InvalidArgumentError(
      'data',
      `Training needs at least 2 training examples; the data gave ${plan.train.length}. Pass more users or longer histories.`,
    );
  }
  const graph: GraphSettings = { piecePooling: settings.attention.piecePooling };
  const fingerprint = fingerprintOf(plan);
  return withTrainingBackend(settings.backend, async () => {
    const users = plan.prepared.users.map((user) =>
      buildUserTensors(user.index, user.kindIds, plan.prepared.kindNames.length),
    );
    try {
      const stored = control.checkpointFile ? await readCheckpoint(control.checkpointFile) : undefined;
      const resume = stored && stored.fingerprint === fingerprint ? stored : undefined;
      // Always run: it may also label the examples (clusters), which a resumed run needs too.
      const parameters = initialParameters(plan);
      initialize?.(parameters, users, graph);
      let state: TrainingCheckpoint;
      if (resume) {
        state = resume;
      } else {
        const baseline = evaluate(parameters, users, plan.validation, plan, graph);
        state = {
          fingerprint,
          epoch: 0,
          batch: 0,
          step: 0,
          epochLoss: { sum: 0, count: 0 },
          parameters,
          adam: { step: 0, first: {}, second: {} },
          best: { epoch: 0, validationLoss: baseline.loss, parameters: cloneParameters(parameters) },
          history: [{ epoch: 0, validationLoss: baseline.loss, validationAccuracy: baseline.accuracy }],
        };
      }
      const resumedFromStep = resume ? resume.step : undefined;
      const names = trainableNames(plan, state.parameters);
      const decay = Object.fromEntries(
        ['u', 'v', 'instruction', 'softPrompt'].map((name) => [name, settings.weightDecay]),
      );
      const optimizer = new AdamOptimizer(
        { learningRate: settings.learningRate, weightDecay: decay },
        state.adam,
      );
      const perEpoch = batches(plan.train.length, settings.batchSize, settings.seed, 0).length;
      const totalSteps = perEpoch * settings.epochs;
      const started = performance.now();
      const startStep = state.step;
      let lastCheckpoint = performance.now();
      const save = async () => {
        if (!control.checkpointFile) return;
        await writeCheckpoint(control.checkpointFile, state);
        lastCheckpoint = performance.now();
      };
      while (state.epoch < settings.epochs) {
        const epochBatches = batches(plan.train.length, settings.batchSize, settings.seed, state.epoch);
        while (state.batch < epochBatches.length) {
          if (control.signal?.aborted) {
            await save();
            throw new TrainingAbortedError(state.step, control.checkpointFile);
          }
          const slice = epochBatches[state.batch]!.map((index) => plan.train[index]!);
          const gradients = tf.tidy(() => {
            const fixed = toTensors(state.parameters);
            const trainable = names.map((name) => fixed[name]!);
            const { value, grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) => {
              const current = { ...fixed };
              names.forEach((name, position) => {
                current[name] = inputs[position]!;
              });
              return lossOf(current, users, slice, plan, graph).loss;
            })(trainable);
            return {
              loss: value.dataSync()[0]!,
              grads: grads.map((gradient) => gradient.dataSync() as Float32Array),
            };
          });
          if (!Number.isFinite(gradients.loss)) {
            throw new InvalidArgumentError(
              'learningRate',
              `Training diverged at step ${state.step + 1} (loss ${gradients.loss}). Lower the learning rate.`,
            );
          }
          // Clip the global gradient norm at 5: one odd batch must not throw the scalars far off.
          let squared = 0;
          for (const gradient of gradients.grads) for (const value of gradient) squared += value * value;
          const scale = Math.min(1, 5 / (Math.sqrt(squared) + 1e-12));
          const named = Object.fromEntries(
            names.map((name, position) => [
              name,
              scale === 1
                ? gradients.grads[position]!
                : gradients.grads[position]!.map((value) => value * scale),
            ]),
          );
          optimizer.apply(state.parameters, named);
          clampParameters(state.parameters);
          state.step++;
          state.batch++;
          state.epochLoss.sum += gradients.loss;
          state.epochLoss.count++;
          const seconds = (performance.now() - started) / 1000;
          const doneHere = state.step - startStep;
          const secondsPerStep = seconds / Math.max(1, doneHere);
          control.onProgress?.({
            epoch: state.epoch + 1,
            epochs: settings.epochs,
            step: state.step,
            steps: totalSteps,
            loss: state.epochLoss.sum / state.epochLoss.count,
            examplesPerSecond: (doneHere * settings.batchSize) / Math.max(seconds, 1e-3),
            etaSeconds: secondsPerStep * Math.max(0, totalSteps - state.step),
            ...(state.history.length > 0 ? { validationLoss: state.history.at(-1)!.validationLoss } : {}),
          });
          if (
            control.checkpointFile &&
            performance.now() - lastCheckpoint > (control.checkpointEverySeconds ?? 30) * 1000
          ) {
            await save();
          }
        }
        const validation = evaluate(state.parameters, users, plan.validation, plan, graph);
        state.history.push({
          epoch: state.epoch + 1,
          trainLoss: state.epochLoss.sum / Math.max(1, state.epochLoss.count),
          validationLoss: validation.loss,
          validationAccuracy: validation.accuracy,
        });
        // Without validation examples the last epoch wins.
        if (
          Number.isNaN(validation.loss) ||
          validation.loss < state.best.validationLoss ||
          Number.isNaN(state.best.validationLoss)
        ) {
          state.best = {
            epoch: state.epoch + 1,
            validationLoss: validation.loss,
            parameters: cloneParameters(state.parameters),
          };
        }
        state.epoch++;
        state.batch = 0;
        state.epochLoss = { sum: 0, count: 0 };
        await save();
      }
      const artifact = artifactFrom(plan, state.best.parameters, {
        bestEpoch: state.best.epoch,
        steps: state.step,
        examples: { train: plan.train.length, validation: plan.validation.length },
        history: state.history,
      });
      return {
        artifact,
        history: state.history,
        bestEpoch: state.best.epoch,
        ...(resumedFromStep === undefined ? {} : { resumedFromStep }),
        examples: { train: plan.train.length, validation: plan.validation.length },
      };
    } finally {
      users.forEach(disposeUserTensors);
    }
  });
}

/** The run-control fields of a trainer's options, without the ones left unset. */
export function runControlOf(options: RunControl): RunControl {
  return {
    ...(options.checkpointFile === undefined ? {} : { checkpointFile: options.checkpointFile }),
    ...(options.checkpointEverySeconds === undefined
      ? {}
      : { checkpointEverySeconds: options.checkpointEverySeconds }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
}

/** A seeded split of examples into training and validation, the same for every run with this seed. */
export function splitValidation<Example>(
  examples: readonly Example[],
  seed: number,
  validationFraction: number,
): { train: Example[]; validation: Example[] } {
  const order = createSeededRandom(mixSeed(seed, 'validation')).shuffle(examples.map((_, index) => index));
  const validationSet = new Set(order.slice(0, Math.floor(examples.length * validationFraction)));
  return {
    train: examples.filter((_, index) => !validationSet.has(index)),
    validation: examples.filter((_, index) => validationSet.has(index)),
  };
}
