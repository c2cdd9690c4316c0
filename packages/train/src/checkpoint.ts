import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';
import type { AdamState, ParameterSet } from './parameter-set.js';

/** One epoch's numbers. */
export interface EpochSummary {
  /** 0 is the untrained starting point. */
  epoch: number;
  /** Mean training loss over the epoch (undefined for epoch 0). */
  trainLoss?: number;
  /** Loss on the validation examples. */
  validationLoss: number;
  /** Share of validation examples whose persona is closest to its own target among its batch. */
  validationAccuracy: number;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainingCheckpoint {
  /** Hash of the data and every setting but `epochs`: a checkpoint of another run is never resumed. */
  fingerprint: string;
  /** Epoch in progress (0-based) and the next batch in it. */
  epoch: number;
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Sum and count of the training losses of the epoch in progress. */
  epochLoss: { sum: number; count: number };
  parameters: ParameterSet;
  adam: AdamState;
  best: { epoch: number; validationLoss: number; parameters: ParameterSet };
  history: EpochSummary[];
}

const tensorSchema = z.object({ shape: z.array(z.number().int().nonnegative()), data: z.string() });
const parameterSetSchema = z.record(z.string(), tensorSchema);
const checkpointSchema = z.object({
  format: z.literal('userplug-train-checkpoint'),
  version: z.literal(1),
  fingerprint: z.string(),
  epoch: z.number().int().nonnegative(),
  batch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  epochLoss: z.object({ sum: z.number(), count: z.number() }),
  parameters: parameterSetSchema,
  adam: z.object({
    step: z.number().int(),
    first: z.record(z.string(), z.string()),
    second: z.record(z.string(), z.string()),
  }),
  best: z.object({ epoch: z.number().int(), validationLoss: z.number(), parameters: parameterSetSchema }),
  history: z.array(
    z.object({
      epoch: z.number().int(),
      trainLoss: z.number().optional(),
      validationLoss: z.number(),
      validationAccuracy: z.number(),
    }),
  ),
});

function encode(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function decode(data: string): Float32Array {
  const bytes = Buffer.from(data, 'base64');
  const values = new Float32Array(bytes.length / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

function encodeSet(parameters: ParameterSet): Record<string, { shape: number[]; data: string }> {
  return Object.fromEntries(
    Object.entries(parameters.values).map(([name, values]) => [
      name,
      { shape: parameters.shapes[name]!, data: encode(values) },
    ]),
  );
}

function decodeSet(json: Record<string, { shape: number[]; data: string }>): ParameterSet {
  return {
    values: Object.fromEntries(Object.entries(json).map(([name, tensor]) => [name, decode(tensor.data)])),
    shapes: Object.fromEntries(Object.entries(json).map(([name, tensor]) => [name, tensor.shape])),
  };
}

/** Writes a checkpoint atomically (a temporary file, then a rename): a kill never leaves half a file. */
export async function writeCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const json = {
    format: 'userplug-train-checkpoint',
    version: 1,
    fingerprint: checkpoint.fingerprint,
    epoch: checkpoint.epoch,
    batch: checkpoint.batch,
    step: checkpoint.step,
    epochLoss: checkpoint.epochLoss,
    parameters: encodeSet(checkpoint.parameters),
    adam: {
      step: checkpoint.adam.step,
      first: Object.fromEntries(
        Object.entries(checkpoint.adam.first).map(([name, values]) => [name, encode(values)]),
      ),
      second: Object.fromEntries(
        Object.entries(checkpoint.adam.second).map(([name, values]) => [name, encode(values)]),
      ),
    },
    best: {
      epoch: checkpoint.best.epoch,
      validationLoss: checkpoint.best.validationLoss,
      parameters: encodeSet(checkpoint.best.parameters),
    },
    history: checkpoint.history,
  };
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(json));
  await rename(temporary, path);
}

/** Reads a checkpoint, or undefined when there is none. */
export async function readCheckpoint(path: string): Promise<TrainingCheckpoint | undefined> {
  if (!existsSync(path)) return undefined;
  const json = await readJsonFile(path, { what: 'Checkpoint', fix: 'Delete it to start over.' });
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    throw new FileFormatError(
      path,
      `Checkpoint ${path} is not a userplug training checkpoint (field "${parsed.error.issues[0]!.path.join('.')}"). Delete it to start over.`,
      { cause: parsed.error },
    );
  }
  const file = parsed.data;
  return {
    fingerprint: file.fingerprint,
    epoch: file.epoch,
    batch: file.batch,
    step: file.step,
    epochLoss: file.epochLoss,
    parameters: decodeSet(file.parameters),
    adam: {
      step: file.adam.step,
      first: Object.fromEntries(Object.entries(file.adam.first).map(([name, data]) => [name, decode(data)])),
      second: Object.fromEntries(
        Object.entries(file.adam.second).map(([name, data]) => [name, decode(data)]),
      ),
    },
    best: {
      epoch: file.best.epoch,
      validationLoss: file.best.validationLoss,
      parameters: decodeSet(file.best.parameters),
    },
    history: file.history.map((entry) => ({
      epoch: entry.epoch,
      validationLoss: entry.validationLoss,
      validationAccuracy: entry.validationAccuracy,
      ...(entry.trainLoss === undefined ? {} : { trainLoss: entry.trainLoss }),
    })),
  };
}
