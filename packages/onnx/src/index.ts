export type {
  PersonaSequence,
  PersonaTextPlacement,
  SequenceSegment,
} from './build-persona-sequence.js';
export { type ChatTokenizer, loadChatTokenizer, type TemplateMessage } from './chat-tokenizer.js';
export { createOnnxAdapter, type OnnxAdapter, type OnnxAdapterSettings } from './create-onnx-adapter.js';
export type { DecoderConfig } from './decoder-config.js';
export type { EmbeddingTable } from './embedding-table.js';
export {
  type DecoderCache,
  type DecoderForwardInput,
  type DecoderForwardOutput,
  defaultOnnxCacheDirectory,
  loadOnnxDecoder,
  type OnnxDecoder,
  type OnnxDecoderSettings,
} from './load-onnx-decoder.js';
export { loadOnnxTokenCounter } from './load-onnx-token-counter.js';
export {
  createTrainedProjector,
  loadProjectorFile,
  type ProjectorFileJson,
  type ProjectorWeights,
  projectVector,
  readProjectorFile,
  serializeProjector,
  writeProjectorFile,
} from './projector-file.js';
export { argmax, type SamplingOptions, sampleToken } from './sample-token.js';
export {
  createTokenEmbeddingProjector,
  type ProjectorContext,
  type ProjectorFactory,
  type SoftPromptInput,
  type SoftPromptProjector,
  type TokenEmbeddingProjectorSettings,
} from './soft-prompt-projector.js';
