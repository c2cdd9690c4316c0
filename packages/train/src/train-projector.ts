import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@userplug/core';
import { createSeededRandom, mixSeed } from '@userplug/core/internal';
import type { OnnxDecoder, ProjectorWeights } from '@userplug/onnx';
import { type TrainingBackend, withTrainingBackend } from './training-backend.js';

/** One example for the projector: a query-aware persona vector, the input, and the gold output. */
export interface ProjectorExample {
  /** `persona.vector` of the personalizer (with the trained artifact, when there is one). */
  persona: Float32Array;
  input: string;
  output: string;
}

/** The LLM side a projector is trained against: `OnnxDecoder` from `@userplug/onnx` fits. */
export type ProjectorDecoder = Pick<OnnxDecoder, 'tokenizer' | 'embeddings' | 'forward'> & {
  readonly modelDirectory?: string;
};

/** Options of {@link initializeProjector}. */
export interface InitializeProjectorOptions {
  decoder: ProjectorDecoder;
  encoder: { id: string; dim: number };
  /** Hidden units of the MLP. Default 256. */
  hiddenUnits?: number;
  /** Soft tokens `P` is split into. Default 1. */
  personaTokens?: number;
  /** Start of the instruction token `I`: the mean token embedding of this text. Default "personalize the answer for this user". */
  instruction?: string;
  seed?: number;
  /** The model's name, stored in the file. */
  model?: string;
}

function meanTokenEmbedding(decoder: ProjectorDecoder, text: string): Float32Array {
  const hidden = decoder.embeddings.hiddenSize;
  const ids = decoder.tokenizer.encode(text).filter((id) => !decoder.tokenizer.specialIds.has(id));
  const mean = new Float32Array(hidden);
  if (ids.length === 0) return mean;
  const rows = decoder.embeddings.lookup(ids);
  for (let row = 0; row < ids.length; row++) {
    for (let column = 0; column < hidden; column++)
      mean[column]! += rows[row * hidden + column]! / ids.length;
  }
  return mean;
}

function rescale(vector: Float32Array, norm: number): Float32Array {
  let squared = 0;
  for (const value of vector) squared += value * value;
  const scale = squared > 0 ? norm / Math.sqrt(squared) : 0;
  return vector.map((value) => value * scale);
}

/**
 * A seeded starting projector (Persona-Plug's 2-layer GELU MLP, `@userplug/onnx`'s file format): small random
 * weights, and the instruction token set to the mean embedding of an instruction text at a typical token norm.
 */
export function initializeProjector(options: InitializeProjectorOptions): ProjectorWeights {
  const { decoder, encoder } = options;
  const hidden = decoder.embeddings.hiddenSize;
  const units = options.hiddenUnits ?? 256;
  const tokens = options.personaTokens ?? 1;
  const random = createSeededRandom(mixSeed(options.seed ?? 1, 'projector'));
  const typical = decoder.embeddings.typicalNorm;
  return {
    encoder: { id: encoder.id, dim: encoder.dim },
    llm: options.model === undefined ? { hiddenSize: hidden } : { hiddenSize: hidden, model: options.model },
    activation: 'gelu',
    personaTokens: tokens,
    profileTokens: 'none',
    w1: Float32Array.from({ length: units * encoder.dim }, () => random.normal() / Math.sqrt(encoder.dim)),
    b1: new Float32Array(units),
    w2: Float32Array.from(
      { length: tokens * hidden * units },
      () => (random.normal() * typical) / Math.sqrt(units * hidden),
    ),
    b2: new Float32Array(tokens * hidden),
    instruction: rescale(
      meanTokenEmbedding(decoder, options.instruction ?? 'personalize the answer for this user'),
      typical,
    ),
  };
}

function checkExamples(weights: ProjectorWeights, examples: readonly ProjectorExample[]): void {
  if (examples.length === 0)
    throw new InvalidArgumentError('examples', 'Projector training needs at least one example.');
  for (const example of examples) {
    if (example.persona.length !== weights.encoder.dim) {
      throw new InvalidArgumentError(
        'examples',
        `A persona vector has ${example.persona.length} dimensions; the projector maps ${weights.encoder.dim} (${weights.encoder.id}). Build personas with the projector's encoder.`,
      );
    }
  }
}

/** Options of {@link warmStartProjector}. */
export interface WarmStartProjectorOptions {
  decoder: ProjectorDecoder;
  weights: ProjectorWeights;
  examples: readonly ProjectorExample[];
  /** Passes over the examples. Default 20. */
  epochs?: number;
  /** Adam learning rate. Default 0.003. */
  learningRate?: number;
  /** Examples per step. Default 32. */
  batchSize?: number;
  seed?: number;
  backend?: TrainingBackend;
}

/**
 * Autodiff warm start of the projector (no gradients through the LLM): InfoNCE (τ 0.07) between the mean of the
 * projected persona tokens and the mean input embedding of the gold output's tokens, plus a term holding the
 * tokens at a typical embedding norm. Returns new weights.
 */
export async function warmStartProjector(options: WarmStartProjectorOptions): Promise<ProjectorWeights> {
  const { decoder, examples } = options;
  const weights = structuredClone(options.weights);
  checkExamples(weights, examples);
  const hidden = weights.llm.hiddenSize;
  const units = weights.b1.length;
  const dim = weights.encoder.dim;
  const tokens = weights.personaTokens;
  const typical = decoder.embeddings.typicalNorm;
  const targets = examples.map((example) => meanTokenEmbedding(decoder, example.output));
  const learningRate = options.learningRate ?? 0.003;
  const batchSize = Math.max(2, options.batchSize ?? 32);
  const epochs = options.epochs ?? 20;
  return withTrainingBackend(options.backend ?? 'wasm', async () => {
    const values: Record<string, Float32Array> = {
      w1: weights.w1,
      b1: weights.b1,
      w2: weights.w2,
      b2: weights.b2,
    };
    const shapes: Record<string, number[]> = {
      w1: [units, dim],
      b1: [units],
      w2: [tokens * hidden, units],
      b2: [tokens * hidden],
    };
    const names = Object.keys(values);
    const moments = Object.fromEntries(
      names.map((name) => [
        name,
        [new Float32Array(values[name]!.length), new Float32Array(values[name]!.length)],
      ]),
    );
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = createSeededRandom(mixSeed(options.seed ?? 1, 'warm-start', epoch)).shuffle(
        examples.map((_, index) => index),
      );
      for (let start = 0; start + 2 <= order.length; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        const personas = tf.tensor2d(
          Float32Array.from(batch.flatMap((index) => [...examples[index]!.persona])),
          [batch.length, dim],
        );
        const goldMeans = tf.tensor2d(Float32Array.from(batch.flatMap((index) => [...targets[index]!])), [
          batch.length,
          hidden,
        ]);
        const gradients = tf.tidy(() => {
          const { grads } = tf.valueAndGrads((w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => {
            const pre = tf.add(tf.matMul(personas, w1, false, true), b1);
            const activated = tf.mul(tf.mul(pre, 0.5), tf.add(1, tf.erf(tf.div(pre, Math.SQRT2))));
            const output = tf.add(tf.matMul(activated, w2, false, true), b2);
            const meanToken = tf.div(tf.sum(tf.reshape(output, [batch.length, tokens, hidden]), 1), tokens);
            const norms = tf.sqrt(tf.add(tf.sum(tf.square(meanToken), 1, true), 1e-12));
            const unit = tf.div(meanToken, norms);
            const goldUnit = tf.div(goldMeans, tf.sqrt(tf.add(tf.sum(tf.square(goldMeans), 1, true), 1e-12)));
            const logits = tf.div(tf.matMul(unit, goldUnit, false, true), 0.07);
            const nce = tf.div(
              tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.eye(batch.length)))),
              batch.length,
            );
            const normTerm = tf.div(tf.sum(tf.square(tf.sub(tf.div(norms, typical), 1))), batch.length);
            return tf.add(nce, normTerm) as tf.Scalar;
          })(names.map((name) => tf.tensor(values[name]!, shapes[name]!)));
          return grads.map((gradient) => gradient.dataSync() as Float32Array);
        });
        tf.dispose([personas, goldMeans]);
        step++;
        names.forEach((name, position) => {
          const value = values[name]!;
          const gradient = gradients[position]!;
          const [first, second] = moments[name]!;
          for (let index = 0; index < value.length; index++) {
            first![index] = 0.9 * first![index]! + 0.1 * gradient[index]!;
            second![index] = 0.999 * second![index]! + 0.001 * gradient[index]! ** 2;
            value[index] =
              value[index]! -
              (learningRate * (first![index]! / (1 - 0.9 ** step))) /
                (Math.sqrt(second![index]! / (1 - 0.999 ** step)) + 1e-8);
          }
        });
      }
    }
    return weights;
  });
}

function gelu(x: number): number {
  // Abramowitz–Stegun erf, as @userplug/onnx's projector applies it.
  const z = x / Math.SQRT2;
  const sign = z < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(z));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return 0.5 * x * (1 + sign * y);
}

/** The projector's soft tokens for a persona vector, `[I…, P₁…P_k]` as `@userplug/onnx` feeds them. */
export function projectorTokens(weights: ProjectorWeights, persona: Float32Array): Float32Array[] {
  const units = weights.b1.length;
  const dim = weights.encoder.dim;
  const hidden = weights.llm.hiddenSize;
  const activated = new Float32Array(units);
  for (let unit = 0; unit < units; unit++) {
    let sum = weights.b1[unit]!;
    for (let column = 0; column < dim; column++) sum += weights.w1[unit * dim + column]! * persona[column]!;
    activated[unit] = gelu(sum);
  }
  const instructions = Array.from({ length: weights.instruction.length / hidden }, (_, row) =>
    weights.instruction.slice(row * hidden, (row + 1) * hidden),
  );
  const personaTokens = Array.from({ length: weights.personaTokens }, (_, token) => {
    const output = new Float32Array(hidden);
    for (let column = 0; column < hidden; column++) {
      const row = token * hidden + column;
      let sum = weights.b2[row]!;
      for (let unit = 0; unit < units; unit++) sum += weights.w2[row * units + unit]! * activated[unit]!;
      output[column] = sum;
    }
    return output;
  });
  return [...instructions, ...personaTokens];
}

/**
 * Mean negative log-likelihood per gold-output token of a local LM, with the projector's soft tokens placed
 * as the ONNX adapter places them: the chat template's user turn starts with `[I, P]`, then the input; the
 * assistant's turn is the gold output.
 */
export async function projectorLoss(
  decoder: ProjectorDecoder,
  weights: ProjectorWeights,
  examples: readonly ProjectorExample[],
): Promise<number> {
  const hidden = decoder.embeddings.hiddenSize;
  const marker = '\u0000userplug-soft-tokens\u0000';
  const placeholder = decoder.tokenizer.padTokenId ?? decoder.tokenizer.eosTokenId ?? 0;
  let total = 0;
  let count = 0;
  for (const example of examples) {
    const rendered = decoder.tokenizer.renderChat([{ role: 'user', content: `${marker}${example.input}` }]);
    const [before = '', after = ''] = rendered.split(marker);
    const prefix = decoder.tokenizer.encode(before);
    const suffix = decoder.tokenizer.encode(after);
    const gold = decoder.tokenizer.encode(example.output);
    if (decoder.tokenizer.eosTokenId !== undefined) gold.push(decoder.tokenizer.eosTokenId);
    const soft = projectorTokens(weights, example.persona);
    const positions = prefix.length + soft.length + suffix.length + gold.length;
    const embeddings = new Float32Array(positions * hidden);
    embeddings.set(decoder.embeddings.lookup(prefix), 0);
    soft.forEach((vector, row) => {
      embeddings.set(vector, (prefix.length + row) * hidden);
    });
    embeddings.set(decoder.embeddings.lookup([...suffix, ...gold]), (prefix.length + soft.length) * hidden);
    const tokenIds = [...prefix, ...soft.map(() => placeholder), ...suffix, ...gold];
    const { logits, vocabSize } = await decoder.forward({ embeddings, tokenIds });
    const firstGold = positions - gold.length;
    gold.forEach((token, offset) => {
      const row = firstGold + offset - 1;
      let maximum = Number.NEGATIVE_INFINITY;
      for (let column = 0; column < vocabSize; column++)
        maximum = Math.max(maximum, logits[row * vocabSize + column]!);
      let sum = 0;
      for (let column = 0; column < vocabSize; column++)
        sum += Math.exp(logits[row * vocabSize + column]! - maximum);
      total += maximum + Math.log(sum) - logits[row * vocabSize + token]!;
      count++;
    });
  }
  return total / Math.max(1, count);
}

/** Options of {@link refineProjectorZerothOrder}. */
export interface ZerothOrderOptions {
  decoder: ProjectorDecoder;
  weights: ProjectorWeights;
  examples: readonly ProjectorExample[];
  /** SPSA steps (two forward passes over a minibatch each). Default 20. */
  steps?: number;
  /** Perturbation size ε. Default 1e-3. */
  perturbation?: number;
  /** Step size. Default 1e-3. */
  learningRate?: number;
  /** Examples per step (drawn in order, wrapping). Default 8. */
  batchSize?: number;
  /** Also learn the instruction tokens. Default true. */
  instruction?: boolean;
  seed?: number;
  /** Called after each step with the minibatch loss (mean of the ± passes). */
  onStep?: (event: { step: number; steps: number; loss: number }) => void;
}

/**
 * Refines a projector through a local ONNX LM without gradients (MeZO / SPSA): each step perturbs all weights
 * by `±ε·z` with a seeded Gaussian `z`, measures the LM's loss on the gold outputs both ways, and moves by
 * `−η·(L₊ − L₋)/(2ε)·z`. Forward passes only; deterministic for a seed. Returns new weights.
 */
export async function refineProjectorZerothOrder(options: ZerothOrderOptions): Promise<ProjectorWeights> {
  const { decoder, examples } = options;
  const weights = structuredClone(options.weights);
  checkExamples(weights, examples);
  const steps = options.steps ?? 20;
  const epsilon = options.perturbation ?? 1e-3;
  const learningRate = options.learningRate ?? 1e-3;
  const batchSize = Math.min(options.batchSize ?? 8, examples.length);
  const tensors = [
    weights.w1,
    weights.b1,
    weights.w2,
    weights.b2,
    ...(options.instruction === false ? [] : [weights.instruction]),
  ];
  const perturb = (noise: Float32Array[], scale: number) => {
    tensors.forEach((tensor, position) => {
      const direction = noise[position]!;
      for (let index = 0; index < tensor.length; index++)
        tensor[index] = tensor[index]! + scale * direction[index]!;
    });
  };
  for (let step = 0; step < steps; step++) {
    const random = createSeededRandom(mixSeed(options.seed ?? 1, 'mezo', step));
    const noise = tensors.map((tensor) =>
      Float32Array.from({ length: tensor.length }, () => random.normal()),
    );
    const batch = Array.from(
      { length: batchSize },
      (_, offset) => examples[(step * batchSize + offset) % examples.length]!,
    );
    perturb(noise, epsilon);
    const plus = await projectorLoss(decoder, weights, batch);
    perturb(noise, -2 * epsilon);
    const minus = await projectorLoss(decoder, weights, batch);
    perturb(noise, epsilon);
    const gradient = (plus - minus) / (2 * epsilon);
    perturb(noise, -learningRate * gradient);
    options.onStep?.({ step: step + 1, steps, loss: (plus + minus) / 2 });
  }
  return weights;
}
