export { createUseEncoder, type UseEncoderSettings, useEncoderId } from './create-use-encoder.js';
export {
  countUseTokens,
  createUseTokenizer,
  tokenizeForUse,
  type UseTokenizerSettings,
} from './create-use-tokenizer.js';
export {
  createSentencepieceTokenizer,
  normalizeForSentencepiece,
  type SentencepieceEntry,
  type SentencepieceTokenizer,
  type SentencepieceTokenizerSettings,
} from './sentencepiece-tokenizer.js';
