export { Bm25Index, type Bm25Parameters } from './bm25-index.js';
export {
  type CalibratedQuery,
  type CalibrationSettings,
  calibratePieces,
  calibrateQuery,
  type PieceCalibration,
} from './calibrate-pieces.js';
export {
  checkItemBatch,
  mixedEncoderError,
  requireWellFormed,
  type UserEncoder,
} from './check-item-batch.js';
export { contentHash } from './content-hash.js';
export {
  createEstimatingTokenCounter,
  type EstimatingTokenCounterSettings,
} from './create-estimating-token-counter.js';
export { createHashingEncoder, type HashingEncoderSettings } from './create-hashing-encoder.js';
export {
  createPersonalizer,
  type IngestResult,
  type PersonalizeRequest,
  type Personalizer,
  type PersonalizerSettings,
} from './create-personalizer.js';
export { loadDefaultEncoder } from './default-encoder.js';
export { maxPieceWordsFor } from './embed-history-items.js';
export {
  type AttentionSettings,
  embedUser,
  pieceSimilarities,
  resolveAttentionSettings,
  type UserEmbedding,
} from './embed-user.js';
export type { Encoder } from './encoder.js';
export {
  type HistoryItem,
  type HistoryItemInput,
  type HistoryLimits,
  type HistorySource,
  parseHistoryItem,
  readHistoryBatches,
} from './history-item.js';
export {
  earlierMessages,
  type HostedAdapter,
  type HostedGenerateRequest,
  type HostedGenerateResult,
  type HostedMessage,
  type HostedStreamChunk,
  type HostedUsage,
} from './hosted-adapter.js';
export { createMemoryStore } from './memory-store.js';
export { minePhrases, type PhraseCandidate } from './mine-phrases.js';
export { type PersonalizeOptions, personalize } from './personalize.js';
export type {
  Attribution,
  ChatMessage,
  Persona,
  PersonalizeResult,
  PersonalizeWarning,
  PersonaUsage,
} from './personalize-result.js';
export { type PersonalizeResultJson, personalizeResultToJson } from './personalize-result-json.js';
export {
  type BudgetedPersonalization,
  type PersonalizeWithinBudgetOptions,
  personalizeWithinBudget,
} from './personalize-within-budget.js';
export {
  type ProviderErrorContext,
  type ProviderIdentity,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
} from './provider-failure.js';
export { quoteUntrusted } from './quote-untrusted.js';
export { readHistoryFile } from './read-history-file.js';
export {
  type EvidenceCandidate,
  minimumPersonaBudget,
  type PersonaContent,
  type PersonaDescriptor,
  type PersonaEvidence,
  type RenderedPersona,
  type RenderPersonaOptions,
  renderPersona,
} from './render-persona.js';
export { restateQuestion } from './restate-question.js';
export { cutIntoPieces, type PieceSettings, splitIntoPieces, type TextPiece } from './split-into-pieces.js';
export type { ForgetReport, StoredItem, UpsertCounts, UserplugStore } from './store.js';
export type { SignalCount, SignalSummary } from './summarize-signals.js';
export { indexTerms, stem, stopwords, words } from './text-terms.js';
export {
  createTiktokenCounter,
  type TiktokenCounterSettings,
  type TiktokenEncoding,
  type TokenCounter,
  tiktokenEncodingForModel,
} from './token-counter.js';
export {
  checkTrainedArtifactEncoder,
  classifyWithPrototypes,
  findTrainedInstruction,
  loadTrainedArtifact,
  type PrototypeClassification,
  parseTrainedArtifact,
  serializeTrainedArtifact,
  type TrainedArtifact,
  type TrainedArtifactJson,
  type TrainedAttention,
  type TrainedInstruction,
  type TrainedPrototypes,
  trainedAttentionSettings,
  transformTrainedQuery,
  writeTrainedArtifact,
} from './trained-artifact.js';
export { buildUserIndex, type IndexSettings, type UserIndex } from './user-index.js';
export {
  EncoderError,
  FileFormatError,
  InvalidArgumentError,
  InvalidHistoryError,
  ProviderError,
  StoreError,
  UserplugError,
  type UserplugErrorOptions,
} from './userplug-error.js';
export {
  decodeVectors,
  encodedLength,
  encodeVectors,
  type VectorQuantization,
  vectorFormatCode,
} from './vector-codec.js';
