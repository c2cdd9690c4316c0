import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileFormatError, InvalidArgumentError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';
import type { ProjectorFactory, SoftPromptProjector } from './soft-prompt-projector.js';

const tensorSchema = z.object({
  shape: z.array(z.number().int().positive()).min(1).max(2),
  /** Little-endian float32 values, base64. */
  data: z.string(),
});

const projectorFileSchema = z.object({
  format: z.literal('userplug-projector'),
  version: z.literal(1),
  encoder: z.object({ id: z.string().min(1), dim: z.number().int().positive() }),
  llm: z.object({ hiddenSize: z.number().int().positive(), model: z.string().optional() }),
  activation: z.enum(['gelu', 'gelu-tanh']).default('gelu'),
  personaTokens: z.number().int().positive().default(1),
  profileTokens: z.enum(['none', 'user-vector']).default('none'),
  tensors: z.object({
    w1: tensorSchema,
    b1: tensorSchema,
    w2: tensorSchema,
    b2: tensorSchema,
    instruction: tensorSchema.optional(),
  }),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** The contents of a projector file, as JSON (what {@link writeProjectorFile} writes). */
export type ProjectorFileJson = z.input<typeof projectorFileSchema>;

/**
 * A trained projector (Persona-Plug): a 2-layer MLP from the encoder's space to the LLM's
 * input-embedding space, `P = W2 · act(W1 · v + b1) + b2`, and instruction embeddings `I`.
 * Matrices are row-major `[rows, columns]`.
 */
export interface ProjectorWeights {
  /** The encoder whose vectors it maps. */
  encoder: { id: string; dim: number };
  /** The LLM it maps to: its hidden size, and optionally its name. */
  llm: { hiddenSize: number; model?: string };
  /** `gelu` (exact, erf) or `gelu-tanh` (the tanh approximation). Default `gelu`. */
  activation: 'gelu' | 'gelu-tanh';
  /** Soft tokens `P` is split into (W2 has `personaTokens × hiddenSize` rows). */
  personaTokens: number;
  /** `user-vector`: also project the query-independent user vector into the cached prefix. Default `none`. */
  profileTokens: 'none' | 'user-vector';
  /** `[hiddenUnits, encoder.dim]`. */
  w1: Float32Array;
  /** `[hiddenUnits]`. */
  b1: Float32Array;
  /** `[personaTokens × llm.hiddenSize, hiddenUnits]`. */
  w2: Float32Array;
  /** `[personaTokens × llm.hiddenSize]`. */
  b2: Float32Array;
  /** Instruction tokens `I`, `[instructionTokens, llm.hiddenSize]`; empty for none. */
  instruction: Float32Array;
  /** Free-form facts about training (data, steps, loss). */
  metadata?: Record<string, unknown>;
}

function decodeTensor(path: string, name: string, tensor: z.infer<typeof tensorSchema>): Float32Array {
  const bytes = Buffer.from(tensor.data, 'base64');
  const count = tensor.shape.reduce((product, size) => product * size, 1);
  if (bytes.length !== count * 4) {
    throw new FileFormatError(
      path,
      `Projector file ${path}: tensor "${name}" has shape [${tensor.shape.join(', ')}] (${count} values) but ${bytes.length} bytes of data (${count * 4} expected). The file is damaged; train or download it again.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: count }, (_, index) => view.getFloat32(index * 4, true));
}

function encodeTensor(values: Float32Array, shape: number[]): z.infer<typeof tensorSchema> {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => {
    bytes.writeFloatLE(value, index * 4);
  });
  return { shape, data: bytes.toString('base64') };
}

/** Hidden units of the MLP, checking every shape against the others. */
function hiddenUnitsOf(weights: ProjectorWeights): number {
  const units = weights.b1.length;
  const out = weights.personaTokens * weights.llm.hiddenSize;
  const problems: string[] = [];
  if (units === 0) problems.push('b1 is empty');
  if (weights.w1.length !== units * weights.encoder.dim)
    problems.push(`w1 must be [${units}, ${weights.encoder.dim}]`);
  if (weights.w2.length !== out * units) problems.push(`w2 must be [${out}, ${units}]`);
  if (weights.b2.length !== out) problems.push(`b2 must be [${out}]`);
  if (weights.instruction.length % weights.llm.hiddenSize !== 0) {
    problems.push(`instruction must be [tokens, ${weights.llm.hiddenSize}]`);
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(
      'projector',
      `Projector weights do not fit together: ${problems.join('; ')}.`,
    );
  }
  return units;
}

/** Reads and validates a projector file. Throws a {@link FileFormatError} naming the file and the problem. */
export async function readProjectorFile(path: string): Promise<ProjectorWeights> {
  const json = await readJsonFile(path, {
    what: 'Projector file',
    fix: 'Pass the path of a file written by `userplug train` or writeProjectorFile.',
  });
  const parsed = projectorFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FileFormatError(
      path,
      `Projector file ${path}: field "${issue.path.join('.')}" ${issue.message}. It must be a userplug-projector version 1 file.`,
      { cause: parsed.error },
    );
  }
  const file = parsed.data;
  const weights: ProjectorWeights = {
    encoder: file.encoder,
    llm:
      file.llm.model === undefined
        ? { hiddenSize: file.llm.hiddenSize }
        : { hiddenSize: file.llm.hiddenSize, model: file.llm.model },
    activation: file.activation,
    personaTokens: file.personaTokens,
    profileTokens: file.profileTokens,
    w1: decodeTensor(path, 'w1', file.tensors.w1),
    b1: decodeTensor(path, 'b1', file.tensors.b1),
    w2: decodeTensor(path, 'w2', file.tensors.w2),
    b2: decodeTensor(path, 'b2', file.tensors.b2),
    instruction: file.tensors.instruction
      ? decodeTensor(path, 'instruction', file.tensors.instruction)
      : new Float32Array(0),
    ...(file.metadata === undefined ? {} : { metadata: file.metadata }),
  };
  try {
    hiddenUnitsOf(weights);
  } catch (error) {
    throw new FileFormatError(path, `Projector file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return weights;
}

/** The JSON of a projector file (format `userplug-projector`, version 1). */
export function serializeProjector(weights: ProjectorWeights): ProjectorFileJson {
  const units = hiddenUnitsOf(weights);
  const hidden = weights.llm.hiddenSize;
  return {
    format: 'userplug-projector',
    version: 1,
    encoder: weights.encoder,
    llm: weights.llm,
    activation: weights.activation,
    personaTokens: weights.personaTokens,
    profileTokens: weights.profileTokens,
    tensors: {
      w1: encodeTensor(weights.w1, [units, weights.encoder.dim]),
      b1: encodeTensor(weights.b1, [units]),
      w2: encodeTensor(weights.w2, [weights.personaTokens * hidden, units]),
      b2: encodeTensor(weights.b2, [weights.personaTokens * hidden]),
      ...(weights.instruction.length === 0
        ? {}
        : { instruction: encodeTensor(weights.instruction, [weights.instruction.length / hidden, hidden]) }),
    },
    ...(weights.metadata === undefined ? {} : { metadata: weights.metadata }),
  };
}

/** Writes a projector file (atomically: a temporary file, then a rename). */
export async function writeProjectorFile(path: string, weights: ProjectorWeights): Promise<void> {
  const json = `${JSON.stringify(serializeProjector(weights))}\n`;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, json);
  await rename(temporary, path);
}

/** erf, Abramowitz–Stegun 7.1.26 (error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return sign * y;
}

function gelu(x: number, tanh: boolean): number {
  if (tanh) return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** Applies the MLP to one encoder vector: `personaTokens` vectors of the LLM's hidden size. */
export function projectVector(weights: ProjectorWeights, vector: Float32Array): Float32Array[] {
  const units = hiddenUnitsOf(weights);
  const dim = weights.encoder.dim;
  if (vector.length !== dim) {
    throw new InvalidArgumentError(
      'vector',
      `The projector maps ${dim}-dimensional encoder vectors; got ${vector.length}. Use the encoder it was trained with (${weights.encoder.id}).`,
    );
  }
  const hiddenLayer = new Float32Array(units);
  for (let unit = 0; unit < units; unit++) {
    let sum = weights.b1[unit]!;
    for (let column = 0; column < dim; column++) sum += weights.w1[unit * dim + column]! * vector[column]!;
    hiddenLayer[unit] = gelu(sum, weights.activation === 'gelu-tanh');
  }
  const hidden = weights.llm.hiddenSize;
  return Array.from({ length: weights.personaTokens }, (_, token) => {
    const output = new Float32Array(hidden);
    for (let column = 0; column < hidden; column++) {
      const row = token * hidden + column;
      let sum = weights.b2[row]!;
      for (let unit = 0; unit < units; unit++) sum += weights.w2[row * units + unit]! * hiddenLayer[unit]!;
      output[column] = sum;
    }
    return output;
  });
}

/**
 * A projector from trained weights: query tokens `[I…, P]` with `P` the MLP of the query-aware
 * persona vector (Persona-Plug projects each item and sums; userplug projects the attention-
 * weighted sum, the same for a linear map), and, with `profileTokens: 'user-vector'`, the MLP of
 * the query-independent user vector as profile tokens.
 */
export function createTrainedProjector(weights: ProjectorWeights): ProjectorFactory {
  hiddenUnitsOf(weights);
  return ({ hiddenSize, encoder }): SoftPromptProjector => {
    if (weights.llm.hiddenSize !== hiddenSize) {
      throw new InvalidArgumentError(
        'projector',
        `The projector outputs ${weights.llm.hiddenSize}-wide vectors${weights.llm.model ? ` (trained for ${weights.llm.model})` : ''}, this LLM's hidden size is ${hiddenSize}. Use a projector trained for this model.`,
      );
    }
    if (weights.encoder.dim !== encoder.dim) {
      throw new InvalidArgumentError(
        'projector',
        `The projector maps ${weights.encoder.dim}-dimensional vectors of ${weights.encoder.id}; the personalizer's encoder ${encoder.id} makes ${encoder.dim}-dimensional ones. Use the encoder the projector was trained with.`,
      );
    }
    const warnings =
      weights.encoder.id === encoder.id
        ? []
        : [
            {
              type: 'compatibility' as const,
              feature: 'projector-encoder',
              message: `The projector was trained on ${weights.encoder.id} vectors and gets ${encoder.id} vectors of the same size: soft tokens may be meaningless. Use the encoder it was trained with.`,
            },
          ];
    const instructionTokens = Array.from({ length: weights.instruction.length / hiddenSize }, (_, row) =>
      weights.instruction.slice(row * hiddenSize, (row + 1) * hiddenSize),
    );
    return {
      id: `trained:${weights.encoder.id}->${hiddenSize}x${weights.personaTokens}`,
      warnings,
      profileTokens: (persona) =>
        weights.profileTokens === 'user-vector' ? projectVector(weights, persona.userVector) : [],
      queryTokens: ({ persona }) => [...instructionTokens, ...projectVector(weights, persona.vector)],
    };
  };
}

/** Reads a projector file and returns its projector (see {@link createTrainedProjector}). */
export async function loadProjectorFile(path: string): Promise<ProjectorFactory> {
  return createTrainedProjector(await readProjectorFile(path));
}
