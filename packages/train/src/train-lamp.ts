import { type Encoder, InvalidArgumentError } from '@userplug/core';
import { embedHistories, embedTexts } from './embed-histories.js';
import { classMeans } from './kmeans.js';
import { lampLabelSets } from './lamp-labels.js';
import { ageFeature, lexicalFeature, prepareUsers } from './prepare-users.js';
import type { ScoringExample } from './scoring-graph.js';
import {
  computePersonas,
  type RunControl,
  resolveTrainingSettings,
  runControlOf,
  runTraining,
  splitValidation,
  type TrainingResult,
  type TrainingSettings,
} from './train-loop.js';
import { type LampData, lampProfileToHistoryItem } from './training-data.js';

/** Options of {@link trainOnLamp}. */
export interface LampTrainingOptions extends TrainingSettings, RunControl {
  data: LampData;
  /** Embeds profiles, inputs and outputs; the artifact only fits personalizers with this encoder. */
  encoder: Encoder;
  /**
   * Classes of the prototype loss: a list, `false` for none (generation tasks). Default: LaMP-1/2/3's label
   * set from the task name, else the distinct outputs when there are at most 32 and each occurs about 3 times.
   */
  labels?: readonly string[] | false;
  /** Scenario name of the prototypes. Default: the task name, else `lamp`. */
  scenario?: string;
  /** Folder for embedding caches (profiles, inputs, outputs), so a resumed run embeds nothing again. */
  cacheDirectory?: string;
  /** Called while embedding. */
  onEmbedProgress?: (event: { done: number; total: number }) => void;
}

function normalizeOutput(text: string): string {
  return text.trim().toLowerCase();
}

/** The classes of LaMP-style data, or undefined for generation-style data. */
export function lampClasses(data: LampData, labels?: readonly string[] | false): string[] | undefined {
  if (labels === false) return undefined;
  if (labels) return [...labels];
  const known =
    data.task !== undefined && Object.hasOwn(lampLabelSets, data.task)
      ? lampLabelSets[data.task as keyof typeof lampLabelSets]
      : undefined;
  if (known) return [...known];
  const distinct = [...new Set(data.examples.map((example) => example.output.trim()))].sort();
  return distinct.length <= 32 && data.examples.length >= 3 * distinct.length ? distinct : undefined;
}

/**
 * Supervised training on LaMP-format data (input → output per user): the query-aware persona of the
 * user's profile, queried with the input (and the instruction), is pulled toward the gold output's
 * embedding by InfoNCE against the batch's other outputs (equal outputs are never negatives), plus, for
 * classification-style tasks, the prototypical loss over class prototypes (initialized as the class means
 * of the untrained personas) with scenario soft prompts (Query-as-Anchor).
 */
export async function trainOnLamp(options: LampTrainingOptions): Promise<TrainingResult> {
  const { data, encoder } = options;
  if (data.examples.length < 2) {
    throw new InvalidArgumentError(
      'data',
      `LaMP training needs at least 2 examples; got ${data.examples.length}.`,
    );
  }
  const labels = lampClasses(data, options.labels);
  const settings = resolveTrainingSettings(options, { softPromptTokens: labels ? 6 : 0 });
  const cache = (name: string) =>
    options.cacheDirectory ? `${options.cacheDirectory}/${name}.jsonl` : undefined;
  const histories = data.examples.map((example) => ({
    userId: example.id,
    items: example.profile.map((entry, row) => lampProfileToHistoryItem(data.task, entry, row)),
  }));
  const embedded = await embedHistories({
    histories,
    encoder,
    ...(cache('profiles') === undefined ? {} : { cacheFile: cache('profiles')! }),
    ...(options.onEmbedProgress ? { onProgress: options.onEmbedProgress } : {}),
  });
  const prepared = prepareUsers(embedded, settings.index);
  if (prepared.users.length !== data.examples.length) {
    throw new InvalidArgumentError('data', 'Every LaMP example needs a non-empty profile.');
  }
  const instruction = settings.instruction;
  const queryTexts = data.examples.map((example) =>
    instruction ? `${instruction}\n${example.input}` : example.input,
  );
  const queries = await embedTexts({
    texts: queryTexts,
    encoder,
    side: 'query',
    ...(cache('inputs') === undefined ? {} : { cacheFile: cache('inputs')! }),
  });
  const outputs = await embedTexts({
    texts: data.examples.map((example) => example.output),
    encoder,
    side: 'document',
    ...(cache('outputs') === undefined ? {} : { cacheFile: cache('outputs')! }),
  });
  const labelIndex = new Map((labels ?? []).map((label, index) => [normalizeOutput(label), index]));
  const examples: ScoringExample[] = data.examples.map((example, position) => {
    const index = prepared.users[position]!.index;
    const visible = new Uint8Array(index.items.length).fill(1);
    const label = labelIndex.get(normalizeOutput(example.output));
    const dim = prepared.encoder.dim;
    const centre = new Float32Array(dim);
    for (let row = 0; row < index.items.length * dim; row++)
      centre[row % dim]! += index.itemMatrix[row]! / index.items.length;
    return {
      centre,
      user: position,
      query: queries[position]!,
      lexical: lexicalFeature(index, queryTexts[position]!, visible),
      ageDays: ageFeature(index, visible),
      visible,
      target: outputs[position]!,
      targetKey: normalizeOutput(example.output),
      ...(label === undefined ? {} : { label }),
    };
  });
  const { train, validation } = splitValidation(examples, settings.seed, settings.validationFraction);
  const scenario = options.scenario ?? data.task ?? 'lamp';
  return runTraining(
    {
      objective: 'lamp',
      prepared,
      train,
      validation,
      settings,
      ...(labels ? { classes: { name: scenario, labels } } : {}),
      dataKey: JSON.stringify({
        task: data.task ?? null,
        outputs: data.examples.map((example) => example.output),
      }),
      metadata: {
        task: data.task ?? null,
        examples: data.examples.length,
        profileItems: prepared.users.reduce((sum, user) => sum + user.index.items.length, 0),
        profileText: 'lampProfileToHistoryItem: every field as "field: value" lines',
      },
    },
    runControlOf(options),
    labels
      ? (parameters, users, graph) => {
          const personas = computePersonas(parameters, users, train, graph);
          parameters.values.prototypes = classMeans(
            personas,
            train.map((example) => example.label),
            labels.length,
          );
        }
      : undefined,
  );
}
