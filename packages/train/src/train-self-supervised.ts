import { mixSeed } from '@userplug/core/internal';
import { classMeans, sphericalKMeans } from './kmeans.js';
import { prepareUsers, selfSupervisedExamples } from './prepare-users.js';
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
import type { EmbeddedHistory } from './training-data.js';

/** Options of {@link trainSelfSupervised}. */
export interface SelfSupervisedOptions extends TrainingSettings, RunControl {
  /** Users' embedded histories ({@link embedHistories}, or {@link readStoreHistories}). */
  histories: readonly EmbeddedHistory[];
  /** Words per piece, as the personalizer cut the items: core's `maxPieceWordsFor(encoder)`. Default 300. */
  maxPieceWords?: number;
  /** Fewest earlier items a held-out item needs. Default 3. */
  minHistory?: number;
  /** Most held-out items per user. Default 200. */
  maxExamplesPerUser?: number;
  /**
   * Scenario clusters: k-means over the untrained personas, then prototypes (and soft prompts, with
   * `softPromptTokens`) trained with the prototypical loss (Query-as-Anchor). Default 0: none.
   */
  clusters?: number;
}

/**
 * Learns the query side without labels (Query-as-Anchor's future task): for held-out later items of each
 * user, the persona of the earlier items, queried with one piece of the held-out item, is pulled toward the
 * rest of that item by InfoNCE (τ 0.07, margin-0.1 false-negative mask) against the batch's other targets.
 */
export async function trainSelfSupervised(options: SelfSupervisedOptions): Promise<TrainingResult> {
  // The no-instruction embedding would bias every query toward typical future items: learned only for a named instruction.
  const settings = resolveTrainingSettings(
    { ...options, learn: { instruction: (options.instruction ?? null) !== null, ...options.learn } },
    { softPromptTokens: 0 },
  );
  const prepared = prepareUsers(options.histories, settings.index);
  const examples = selfSupervisedExamples(prepared, {
    seed: settings.seed,
    maxPieceWords: options.maxPieceWords ?? 300,
    ...(options.minHistory === undefined ? {} : { minHistory: options.minHistory }),
    ...(options.maxExamplesPerUser === undefined ? {} : { maxExamplesPerUser: options.maxExamplesPerUser }),
  });
  const { train, validation } = splitValidation(examples, settings.seed, settings.validationFraction);
  const clusters = options.clusters ?? 0;
  return runTraining(
    {
      objective: 'self-supervised',
      prepared,
      train,
      validation,
      settings,
      ...(clusters > 0
        ? {
            classes: {
              name: 'user-clusters',
              labels: Array.from({ length: clusters }, (_, index) => `cluster-${index + 1}`),
            },
          }
        : {}),
      dataKey: JSON.stringify({
        maxPieceWords: options.maxPieceWords ?? 300,
        minHistory: options.minHistory ?? 3,
        maxExamplesPerUser: options.maxExamplesPerUser ?? 200,
        clusters,
      }),
      metadata: {
        users: prepared.users.length,
        items: prepared.users.reduce((sum, user) => sum + user.index.items.length, 0),
        query: 'one piece of the held-out item; target: the unit mean of its other pieces',
      },
    },
    runControlOf(options),
    clusters > 0
      ? (parameters, users, graph) => {
          const personas = computePersonas(parameters, users, examples, graph);
          const { assignments } = sphericalKMeans(personas, clusters, {
            seed: mixSeed(settings.seed, 'clusters'),
          });
          examples.forEach((example, index) => {
            example.label = assignments[index]!;
          });
          parameters.values.prototypes = classMeans(personas, Array.from(assignments), clusters);
        }
      : undefined,
  );
}
