// Writing an artifact is part of training; core only reads them (`loadTrainedArtifact`).
export { maxPieceWordsFor, writeTrainedArtifact } from '@userplug/core/internal';
export type { EpochSummary } from './checkpoint.js';
export { classifyWithPrototypes, type PrototypeClassification } from './classify-with-prototypes.js';
export {
  type EmbedHistoriesOptions,
  type EmbedTextsOptions,
  embedHistories,
  embedTexts,
} from './embed-histories.js';
export {
  type EvaluateLampOptions,
  evaluateLamp,
  type LampEvaluation,
  type LampPredictor,
} from './evaluate-lamp.js';
export { formatTrainingProgress } from './format-progress.js';
export { classMeans, type KMeansResult, sphericalKMeans } from './kmeans.js';
export { lampLabelSets, lampMovieTags } from './lamp-labels.js';
export { syntheticHistories } from './synthetic-histories.js';
export { createSyntheticLamp, type SyntheticLampOptions, writeLampFiles } from './synthetic-lamp.js';
export { type LampTrainingOptions, lampClasses, trainOnLamp } from './train-lamp.js';
export {
  type LampProjectorOptions,
  type LampProjectorResult,
  lampPersonaVectors,
  trainLampProjector,
} from './train-lamp-projector.js';
export {
  type LearnedParts,
  type RunControl,
  TrainingAbortedError,
  type TrainingProgress,
  type TrainingResult,
  type TrainingSettings,
} from './train-loop.js';
export {
  type InitializeProjectorOptions,
  initializeProjector,
  type ProjectorDecoder,
  type ProjectorExample,
  projectorLoss,
  projectorTokens,
  refineProjectorZerothOrder,
  type WarmStartProjectorOptions,
  warmStartProjector,
  type ZerothOrderOptions,
} from './train-projector.js';
export { type SelfSupervisedOptions, trainSelfSupervised } from './train-self-supervised.js';
export type { TrainingBackend } from './training-backend.js';
export {
  type EmbeddedHistory,
  type LampData,
  type LampExample,
  type LampProfileEntry,
  lampProfileToHistoryItem,
  readLampData,
  readStoreHistories,
  readTrainingHistories,
  type TrainingHistory,
} from './training-data.js';
