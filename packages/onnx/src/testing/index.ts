export { type BertEncoderFiles, buildTinyBertEncoder, type TinyBertSettings } from './build-tiny-bert.js';
export { buildTinyDecoder, type TinyDecoder, type TinyDecoderSettings } from './build-tiny-decoder.js';
export {
  buildTinyByteTokenizer,
  buildTinyWordPieceTokenizer,
  type TinyByteTokenizerSettings,
  type TinyTokenizerFiles,
  tinyChatTemplate,
  tinyChatTokens,
} from './build-tiny-tokenizer.js';
export {
  createOnnxGraphBuilder,
  type GraphDimension,
  type OnnxGraphBuilder,
  type OnnxModelBytes,
  randomValues,
} from './onnx-graph-builder.js';
