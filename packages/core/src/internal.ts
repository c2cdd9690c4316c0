/**
 * What userplug's own packages share with core (the embedder's parts for training, evals and stores).
 * Not a public API: it may change in any release. Apps import from `@userplug/core`.
 */
export { Bm25Index, type Bm25Parameters } from './bm25-index.js';
export {
  type CalibratedQuery,
  calibratePieces,
  calibrateQuery,
  type PieceCalibration,
} from './calibrate-pieces.js';
export { contentHash } from './content-hash.js';
export { maxPieceWordsFor } from './embed-history-items.js';
export {
  embedUser,
  pieceSimilarities,
  resolveAttentionSettings,
  type UserEmbedding,
} from './embed-user.js';
export { readHistoryBatches } from './history-item.js';
export { minePhrases, type PhraseCandidate } from './mine-phrases.js';
export { type ReadJsonFileOptions, readJsonFile } from './read-json-file.js';
export {
  minimumPersonaBudget,
  type PersonaContent,
  type RenderedPersona,
  type RenderPersonaOptions,
  renderPersona,
} from './render-persona.js';
export { restateQuestion } from './restate-question.js';
export { createSeededRandom, mixSeed, type SeededRandom } from './seeded-random.js';
export { cutIntoPieces, type PieceSettings, splitIntoPieces, type TextPiece } from './split-into-pieces.js';
export type { SignalCount, SignalSummary } from './summarize-signals.js';
export { indexTerms, stem, stopwords, words } from './text-terms.js';
export {
  checkTrainedArtifactEncoder,
  findTrainedInstruction,
  parseTrainedArtifact,
  serializeTrainedArtifact,
  type TrainedArtifactJson,
  trainedAttentionSettings,
  transformTrainedQuery,
  writeTrainedArtifact,
} from './trained-artifact.js';
export { buildUserIndex, type UserIndex } from './user-index.js';
export { throwIfAborted } from './userplug-error.js';
export { normalizeInPlace } from './vector-math.js';
