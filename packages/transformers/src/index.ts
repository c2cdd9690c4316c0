export {
  bgeQueryInstruction,
  createTransformersEncoder,
  type TransformersDtype,
  type TransformersEncoderSettings,
} from './create-transformers-encoder.js';
