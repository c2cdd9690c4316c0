export {
  createUseEncoder,
  type UseEncoder,
  type UseEncoderSettings,
  useEncoderId,
  useInt8EncoderId,
} from './create-use-encoder.js';
export type { UseRuntime } from './create-use-onnx-runner.js';
export {
  countUseTokens,
  createUseTokenizer,
  tokenizeForUse,
  type UseTokenizerSettings,
} from './create-use-tokenizer.js';
export { defaultUseCacheDirectory, type UseOnnxModelInfo } from './prepare-use-onnx-model.js';
export {
  createSentencepieceTokenizer,
  normalizeForSentencepiece,
  type SentencepieceEntry,
  type SentencepieceTokenizer,
  type SentencepieceTokenizerSettings,
} from './sentencepiece-tokenizer.js';
export type { UsePrecision } from './use-graph-version.js';
