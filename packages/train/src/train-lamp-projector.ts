import {
  createEstimatingTokenCounter,
  createPersonalizer,
  type Encoder,
  type TrainedArtifact,
} from '@userplug/core';
import type { ProjectorWeights } from '@userplug/onnx';
import {
  initializeProjector,
  type ProjectorExample,
  projectorLoss,
  refineProjectorZerothOrder,
  warmStartProjector,
} from './train-projector.js';
import { type LampData, lampProfileToHistoryItem } from './training-data.js';

/** Query-aware persona vectors of LaMP examples, as core computes them (with the artifact when given). */
export async function lampPersonaVectors(options: {
  data: LampData;
  encoder: Encoder;
  artifact?: TrainedArtifact;
  instruction?: string;
}): Promise<Float32Array[]> {
  const personalizer = createPersonalizer({
    encoder: options.encoder,
    tokenCounter: await createEstimatingTokenCounter(),
    ...(options.artifact ? { trained: options.artifact } : {}),
  });
  const vectors: Float32Array[] = [];
  try {
    for (const example of options.data.examples) {
      const userId = `projector:${example.id}`;
      const result = await personalizer.personalize({
        userId,
        prompt: example.input,
        history: example.profile.map((entry, row) => lampProfileToHistoryItem(options.data.task, entry, row)),
        ...(options.instruction === undefined ? {} : { instruction: options.instruction }),
      });
      vectors.push(result.persona.vector);
      await personalizer.forget(userId);
    }
  } finally {
    await personalizer.dispose();
  }
  return vectors;
}

/** Options of {@link trainLampProjector}. */
export interface LampProjectorOptions {
  data: LampData;
  encoder: Encoder;
  /** The trained artifact whose personas the projector maps (from {@link trainOnLamp}). */
  artifact?: TrainedArtifact;
  /** A Hugging Face–layout ONNX decoder directory (needs `@userplug/onnx`). */
  modelDirectory: string;
  /** Also write the projector file (`@userplug/onnx`'s format) here. Default: not written. */
  out?: string;
  /** Where `@userplug/onnx` keeps rewritten graphs. Default: its own. */
  cacheDirectory?: string;
  /** Autodiff warm-start epochs. Default 20. */
  warmStartEpochs?: number;
  /** Zeroth-order (SPSA) steps through the LM. Default 20. */
  zerothOrderSteps?: number;
  /** Most examples used (the first ones). Default 256. */
  maxExamples?: number;
  /** Hidden units. Default 256. */
  hiddenUnits?: number;
  seed?: number;
  instruction?: string;
  onStep?: (event: { phase: 'zeroth-order'; step: number; steps: number; loss: number }) => void;
}

/** A trained projector and the LM loss it reached. */
export interface LampProjectorResult {
  weights: ProjectorWeights;
  /** Mean NLL per gold-output token: at initialization, after the warm start, after zeroth-order refinement. */
  loss: { initial: number; warmStart: number; final: number };
}

// A variable specifier keeps @userplug/onnx (and its native runtime) optional.
const onnxPackage: string = '@userplug/onnx';

/**
 * Trains Persona-Plug's projector for a local ONNX LLM on LaMP-format data: personas from core, an autodiff
 * warm start in the LLM's embedding space, then zeroth-order refinement on the LM's likelihood of the gold outputs.
 */
export async function trainLampProjector(options: LampProjectorOptions): Promise<LampProjectorResult> {
  const onnx = (await import(onnxPackage)) as typeof import('@userplug/onnx');
  const data = { ...options.data, examples: options.data.examples.slice(0, options.maxExamples ?? 256) };
  const personas = await lampPersonaVectors({
    data,
    encoder: options.encoder,
    ...(options.artifact ? { artifact: options.artifact } : {}),
    ...(options.instruction === undefined ? {} : { instruction: options.instruction }),
  });
  const examples: ProjectorExample[] = data.examples.map((example, position) => ({
    persona: personas[position]!,
    input: example.input,
    output: example.output,
  }));
  const decoder = await onnx.loadOnnxDecoder({
    modelDirectory: options.modelDirectory,
    ...(options.cacheDirectory === undefined ? {} : { cacheDirectory: options.cacheDirectory }),
  });
  try {
    const seed = options.seed ?? 1;
    const initial = initializeProjector({
      decoder,
      encoder: options.encoder,
      seed,
      ...(options.hiddenUnits === undefined ? {} : { hiddenUnits: options.hiddenUnits }),
    });
    const sample = examples.slice(0, 32);
    const initialLoss = await projectorLoss(decoder, initial, sample);
    const warm = await warmStartProjector({
      decoder,
      weights: initial,
      examples,
      epochs: options.warmStartEpochs ?? 20,
      seed,
    });
    const warmLoss = await projectorLoss(decoder, warm, sample);
    const refined = await refineProjectorZerothOrder({
      decoder,
      weights: warm,
      examples,
      steps: options.zerothOrderSteps ?? 20,
      seed,
      ...(options.onStep ? { onStep: (event) => options.onStep?.({ phase: 'zeroth-order', ...event }) } : {}),
    });
    const finalLoss = await projectorLoss(decoder, refined, sample);
    // Zeroth-order steps are noisy: keep the better of the two.
    const weights = finalLoss <= warmLoss ? refined : warm;
    const loss = { initial: initialLoss, warmStart: warmLoss, final: Math.min(finalLoss, warmLoss) };
    if (options.out !== undefined) {
      await onnx.writeProjectorFile(options.out, {
        ...weights,
        metadata: { trainedWith: 'userplug train --objective lamp', examples: examples.length, loss },
      });
    }
    return { weights, loss };
  } finally {
    await decoder.dispose();
  }
}
