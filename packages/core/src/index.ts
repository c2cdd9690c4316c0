export type { CalibrationSettings } from './calibrate-pieces.js';
export {
  createEstimatingTokenCounter,
  type EstimatingTokenCounterSettings,
} from './create-estimating-token-counter.js';
export { createHashingEncoder, type HashingEncoderSettings } from './create-hashing-encoder.js';
export {
  type CallOptions,
  createPersonalizer,
  type IngestResult,
  type PersonalizeRequest,
  type Personalizer,
  type PersonalizerSettings,
  type RenderingSettings,
  type RetrievalSettings,
} from './create-personalizer.js';
export { loadDefaultEncoder } from './default-encoder.js';
export type { AttentionSettings } from './embed-user.js';
export type { EncodeOptions, Encoder } from './encoder.js';
export {
  type HistoryItem,
  type HistoryItemInput,
  type HistoryLimits,
  type HistorySource,
  parseHistoryItem,
} from './history-item.js';
export { createMemoryStore } from './memory-store.js';
export type {
  ConversationMessage,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  ModelAdapter,
  ModelTimings,
  ModelUsage,
  ResponseFormat,
  StreamPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from './model-adapter.js';
export { type PersonalizeOptions, personalize } from './personalize.js';
export type {
  Attribution,
  ChatMessage,
  Persona,
  PersonalizeResult,
  PersonaUsage,
} from './personalize-result.js';
export { type PersonalizeResultJson, personalizeResultToJson } from './personalize-result-json.js';
export { quoteUntrusted } from './quote-untrusted.js';
export { readHistoryFile } from './read-history-file.js';
export type {
  EvidenceCandidate,
  EvidencePiece,
  EvidenceSignals,
  PersonaDate,
  PersonaDescriptor,
  PersonaEvidence,
} from './render-persona.js';
export type { TimeExpression } from './resolve-time-expressions.js';
export type { ForgetReport, StoredItem, UpsertCounts, UserplugStore } from './store.js';
export {
  createTiktokenCounter,
  type TiktokenCounterSettings,
  type TiktokenEncoding,
  type TokenCounter,
  tiktokenEncodingForModel,
} from './token-counter.js';
export {
  loadTrainedArtifact,
  type TrainedArtifact,
  type TrainedAttention,
  type TrainedInstruction,
  type TrainedPrototypes,
} from './trained-artifact.js';
export type { IndexSettings } from './user-index.js';
export {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  EncoderError,
  FileFormatError,
  InvalidArgumentError,
  InvalidHistoryError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  type ProviderErrorDetails,
  RateLimitError,
  StoreError,
  UserplugError,
  type UserplugErrorOptions,
} from './userplug-error.js';
export type { UserplugWarning, UserplugWarningType } from './userplug-warning.js';
export type { VectorPrecision } from './vector-kernel.js';
