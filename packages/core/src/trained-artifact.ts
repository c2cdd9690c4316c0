import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { AttentionSettings } from './embed-user.js';
import { readJsonFile } from './read-json-file.js';
import { FileFormatError, InvalidArgumentError } from './userplug-error.js';
import { normalizeInPlace } from './vector-math.js';

const tensorSchema = z.object({
  shape: z.array(z.number().int().positive()).min(1).max(2),
  /** Little-endian float32 values, base64 (the same encoding as @userplug/onnx projector files). */
  data: z.string(),
});

const finite = z.number().finite();

const trainedArtifactSchema = z.object({
  format: z.literal('userplug-trained'),
  version: z.literal(1),
  encoder: z.object({ id: z.string().min(1), dim: z.number().int().positive() }),
  objective: z.string().min(1),
  createdAt: z.string().optional(),
  hyperParameters: z.record(z.string(), z.union([finite, z.string(), z.boolean(), z.null()])).default({}),
  attention: z
    .object({
      temperature: finite.positive().optional(),
      lexicalWeight: finite.nonnegative().optional(),
      recencyWeight: finite.optional(),
      recencyHalfLifeDays: finite.positive().optional(),
      kindPriors: z.record(z.string(), finite).optional(),
      hubnessWeight: finite.nonnegative().optional(),
    })
    .default({}),
  queryTransform: z.object({ u: tensorSchema, v: tensorSchema }).optional(),
  instructions: z
    .array(
      z.object({
        instruction: z.string().nullable(),
        embedding: tensorSchema.optional(),
        softPrompt: tensorSchema.optional(),
      }),
    )
    .default([]),
  prototypes: z
    .array(
      z.object({
        name: z.string().min(1),
        instruction: z.string().nullable(),
        labels: z.array(z.string()).min(1),
        vectors: tensorSchema,
        temperature: finite.positive(),
      }),
    )
    .default([]),
  projectorFile: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** A trained artifact as JSON (what {@link writeTrainedArtifact} writes). */
export type TrainedArtifactJson = z.input<typeof trainedArtifactSchema>;

/** Learned replacements for the defaults of {@link AttentionSettings}. */
export interface TrainedAttention {
  /** Softmax temperature τ. */
  temperature?: number;
  /** Weight of the lexical score next to the cosine. */
  lexicalWeight?: number;
  /** Logit bonus of the newest dated item. */
  recencyWeight?: number;
  /** Half-life of the recency bonus, in days. */
  recencyHalfLifeDays?: number;
  /** Logit offset per item kind. */
  kindPriors?: Record<string, number>;
  /** Weight of the hubness penalty of calibrated indexes. */
  hubnessWeight?: number;
}

/** A learned embedding for one instruction (InstructUE), and its scenario soft prompt (Query-as-Anchor). */
export interface TrainedInstruction {
  /** The instruction text it applies to, exactly; `null` for requests without an instruction. */
  instruction: string | null;
  /** Added to the query vector before the query transform; `[dim]`. */
  embedding?: Float32Array;
  /** Soft prompt vectors `[tokens, dim]`: the query attends over them and adds the blend. */
  softPrompt?: Float32Array;
}

/** Class (or cluster) prototypes of one scenario, in the encoder's space. */
export interface TrainedPrototypes {
  /** Scenario name, such as `LaMP_2` or `user-clusters`. */
  name: string;
  /** The instruction whose personas they classify (`null`: requests without an instruction). */
  instruction: string | null;
  /** One label per prototype. */
  labels: string[];
  /** Unit prototype vectors, `[labels, dim]` row-major. */
  vectors: Float32Array;
  /** Softmax temperature over the cosines. */
  temperature: number;
}

/**
 * What `userplug train` learns (see `@userplug/train`), loaded by `createPersonalizer({ trained })`:
 * a low-rank query transform `q' = normalize(q₁ + U(Vᵀq₁))` with `q₁ = q + e_instruction + softPrompt(q)`,
 * learned attention settings, and scenario prototypes. Matrices are row-major.
 */
export interface TrainedArtifact {
  /** The encoder whose vectors it was trained on; a personalizer must use the same one. */
  encoder: { id: string; dim: number };
  /** `self-supervised`, `lamp`, … */
  objective: string;
  /** When it was written (ISO 8601). */
  createdAt?: string;
  /** The training run's settings (epochs, seed, rank, learning rate, …). */
  hyperParameters: Record<string, number | string | boolean | null>;
  /** Learned attention settings; an explicit personalizer setting wins over them. */
  attention: TrainedAttention;
  /** Low-rank residual query transform: `u` and `v` are `[dim, rank]`. */
  queryTransform?: { rank: number; u: Float32Array; v: Float32Array };
  /** Learned instruction embeddings and soft prompts. */
  instructions: TrainedInstruction[];
  /** Scenario prototypes, for `@userplug/train`'s `classifyWithPrototypes`. */
  prototypes: TrainedPrototypes[];
  /** Path of a `userplug-projector` file trained in the same run, relative to the artifact. */
  projectorFile?: string;
  /** Free-form facts about training (data, steps, losses). */
  metadata?: Record<string, unknown>;
}

function decodeTensor(
  source: string,
  name: string,
  tensor: z.infer<typeof tensorSchema>,
  shape: readonly (number | undefined)[],
): Float32Array {
  const expected = shape.map((size) => (size === undefined ? '*' : String(size))).join(', ');
  const fits =
    tensor.shape.length === shape.length &&
    shape.every((size, axis) => size === undefined || size === tensor.shape[axis]);
  if (!fits) {
    throw new FileFormatError(
      source,
      `Trained artifact ${source}: tensor "${name}" has shape [${tensor.shape.join(', ')}], expected [${expected}]. The file does not fit its own encoder; train it again.`,
    );
  }
  const bytes = Buffer.from(tensor.data, 'base64');
  const count = tensor.shape.reduce((product, size) => product * size, 1);
  if (bytes.length !== count * 4) {
    throw new FileFormatError(
      source,
      `Trained artifact ${source}: tensor "${name}" has shape [${tensor.shape.join(', ')}] (${count} values) but ${bytes.length} bytes of data (${count * 4} expected). The file is damaged; train it again.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = Float32Array.from({ length: count }, (_, index) => view.getFloat32(index * 4, true));
  if (!values.every(Number.isFinite)) {
    throw new FileFormatError(
      source,
      `Trained artifact ${source}: tensor "${name}" holds NaN or infinite values. Training diverged; train it again with a lower learning rate.`,
    );
  }
  return values;
}

function encodeTensor(values: Float32Array, shape: number[]): z.infer<typeof tensorSchema> {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => {
    bytes.writeFloatLE(value, index * 4);
  });
  return { shape, data: bytes.toString('base64') };
}

/**
 * Validates a trained artifact's JSON and decodes its tensors. Throws a {@link FileFormatError}
 * naming `source` (a path, or a description) and the problem.
 */
export function parseTrainedArtifact(json: unknown, source = 'trained artifact'): TrainedArtifact {
  const parsed = trainedArtifactSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FileFormatError(
      source,
      `Trained artifact ${source}: field "${issue.path.join('.') || '(root)'}" ${issue.message}. It must be a userplug-trained version 1 file, as written by \`userplug train\`.`,
      { cause: parsed.error },
    );
  }
  const file = parsed.data;
  const dim = file.encoder.dim;
  const artifact: TrainedArtifact = {
    encoder: file.encoder,
    objective: file.objective,
    hyperParameters: file.hyperParameters,
    attention: Object.fromEntries(
      Object.entries(file.attention).filter(([, value]) => value !== undefined),
    ) as TrainedAttention,
    instructions: file.instructions.map((entry, position) => ({
      instruction: entry.instruction,
      ...(entry.embedding
        ? { embedding: decodeTensor(source, `instructions.${position}.embedding`, entry.embedding, [dim]) }
        : {}),
      ...(entry.softPrompt
        ? {
            softPrompt: decodeTensor(source, `instructions.${position}.softPrompt`, entry.softPrompt, [
              undefined,
              dim,
            ]),
          }
        : {}),
    })),
    prototypes: file.prototypes.map((entry, position) => ({
      name: entry.name,
      instruction: entry.instruction,
      labels: entry.labels,
      vectors: decodeTensor(source, `prototypes.${position}.vectors`, entry.vectors, [
        entry.labels.length,
        dim,
      ]),
      temperature: entry.temperature,
    })),
  };
  if (file.createdAt !== undefined) artifact.createdAt = file.createdAt;
  if (file.queryTransform) {
    const rank = file.queryTransform.u.shape[1];
    if (rank === undefined) {
      throw new FileFormatError(
        source,
        `Trained artifact ${source}: queryTransform.u must be [${dim}, rank]. Train it again.`,
      );
    }
    artifact.queryTransform = {
      rank,
      u: decodeTensor(source, 'queryTransform.u', file.queryTransform.u, [dim, rank]),
      v: decodeTensor(source, 'queryTransform.v', file.queryTransform.v, [dim, rank]),
    };
  }
  if (file.projectorFile !== undefined) artifact.projectorFile = file.projectorFile;
  if (file.metadata !== undefined) artifact.metadata = file.metadata;
  return artifact;
}

/** The artifact as JSON, tensors base64-encoded. */
export function serializeTrainedArtifact(artifact: TrainedArtifact): TrainedArtifactJson {
  const dim = artifact.encoder.dim;
  return {
    format: 'userplug-trained',
    version: 1,
    encoder: { id: artifact.encoder.id, dim },
    objective: artifact.objective,
    ...(artifact.createdAt === undefined ? {} : { createdAt: artifact.createdAt }),
    hyperParameters: artifact.hyperParameters,
    attention: artifact.attention,
    ...(artifact.queryTransform
      ? {
          queryTransform: {
            u: encodeTensor(artifact.queryTransform.u, [dim, artifact.queryTransform.rank]),
            v: encodeTensor(artifact.queryTransform.v, [dim, artifact.queryTransform.rank]),
          },
        }
      : {}),
    instructions: artifact.instructions.map((entry) => ({
      instruction: entry.instruction,
      ...(entry.embedding ? { embedding: encodeTensor(entry.embedding, [dim]) } : {}),
      ...(entry.softPrompt
        ? { softPrompt: encodeTensor(entry.softPrompt, [entry.softPrompt.length / dim, dim]) }
        : {}),
    })),
    prototypes: artifact.prototypes.map((entry) => ({
      name: entry.name,
      instruction: entry.instruction,
      labels: entry.labels,
      vectors: encodeTensor(entry.vectors, [entry.labels.length, dim]),
      temperature: entry.temperature,
    })),
    ...(artifact.projectorFile === undefined ? {} : { projectorFile: artifact.projectorFile }),
    ...(artifact.metadata === undefined ? {} : { metadata: artifact.metadata }),
  };
}

/** Reads and validates a trained artifact written by `userplug train`. */
export async function loadTrainedArtifact(path: string): Promise<TrainedArtifact> {
  const json = await readJsonFile(path, {
    what: 'Trained artifact',
    fix: 'Pass the path `userplug train --out` wrote.',
  });
  return parseTrainedArtifact(json, path);
}

/** Writes a trained artifact (atomically: a temporary file, then a rename). */
export async function writeTrainedArtifact(path: string, artifact: TrainedArtifact): Promise<void> {
  const json = `${JSON.stringify(serializeTrainedArtifact(artifact))}\n`;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, json);
  await rename(temporary, path);
}

/** Throws an {@link InvalidArgumentError} when the artifact was trained on another encoder's vectors. */
export function checkTrainedArtifactEncoder(
  artifact: TrainedArtifact,
  encoder: { id: string; dim: number },
  source = 'the trained artifact',
): void {
  if (artifact.encoder.id === encoder.id && artifact.encoder.dim === encoder.dim) return;
  throw new InvalidArgumentError(
    'trained',
    `The artifact ${source} was trained with encoder "${artifact.encoder.id}" (${artifact.encoder.dim} dimensions), ` +
      `this personalizer uses "${encoder.id}" (${encoder.dim} dimensions): its query transform only fits the vectors it was trained on. ` +
      `Pass the encoder it was trained with, or train again with this one (\`userplug train … --encoder\`).`,
  );
}

/** The learned attention settings, with every setting given explicitly in `explicit` kept. */
export function trainedAttentionSettings(
  artifact: TrainedArtifact,
  explicit: AttentionSettings = {},
): AttentionSettings {
  const merged: AttentionSettings = { ...artifact.attention };
  for (const [key, value] of Object.entries(explicit)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** The artifact's entry for an instruction (`undefined`/`null`: requests without one), if it has one. */
export function findTrainedInstruction(
  artifact: TrainedArtifact,
  instruction: string | null | undefined,
): TrainedInstruction | undefined {
  const key = instruction === undefined || instruction === '' ? null : instruction;
  return artifact.instructions.find((entry) => entry.instruction === key);
}

/**
 * Applies the learned query side to a query vector (a new unit vector; the input is not changed):
 * `q₁ = q + e_I`, then `q₁ += Σ_j softmax(S q₁)_j S_j` with the instruction's soft prompt `S`,
 * then `q' = normalize(q₁ + U(Vᵀ q₁))`.
 */
export function transformTrainedQuery(
  artifact: TrainedArtifact,
  query: Float32Array,
  instruction?: string | null,
): Float32Array {
  const dim = artifact.encoder.dim;
  const vector = Float32Array.from(query);
  const entry = findTrainedInstruction(artifact, instruction);
  if (entry?.embedding)
    for (let column = 0; column < dim; column++) vector[column]! += entry.embedding[column]!;
  if (entry?.softPrompt) {
    const tokens = entry.softPrompt.length / dim;
    const logits = new Float64Array(tokens);
    for (let token = 0; token < tokens; token++) {
      let sum = 0;
      for (let column = 0; column < dim; column++)
        sum += entry.softPrompt[token * dim + column]! * vector[column]!;
      logits[token] = sum;
    }
    const maximum = Math.max(...logits);
    let total = 0;
    for (let token = 0; token < tokens; token++) {
      logits[token] = Math.exp(logits[token]! - maximum);
      total += logits[token]!;
    }
    const blend = new Float32Array(dim);
    for (let token = 0; token < tokens; token++) {
      const weight = logits[token]! / total;
      for (let column = 0; column < dim; column++)
        blend[column]! += weight * entry.softPrompt[token * dim + column]!;
    }
    for (let column = 0; column < dim; column++) vector[column]! += blend[column]!;
  }
  const transform = artifact.queryTransform;
  if (transform) {
    const { rank, u, v } = transform;
    const projected = new Float64Array(rank);
    for (let row = 0; row < dim; row++) {
      const value = vector[row]!;
      for (let column = 0; column < rank; column++) projected[column]! += v[row * rank + column]! * value;
    }
    for (let row = 0; row < dim; row++) {
      let sum = 0;
      for (let column = 0; column < rank; column++) sum += u[row * rank + column]! * projected[column]!;
      vector[row]! += sum;
    }
  }
  return normalizeInPlace(vector);
}
