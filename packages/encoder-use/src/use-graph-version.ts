// Shared by the converter and the cache without loading the converter (and onnx-proto) on a cached start.

/** Bump when the converter's output changes, so graphs cached by an older converter are rebuilt. */
export const converterVersion = 1;

/** `fp32`: the weights as they are. `int8`: matrix weights quantized per output column, activations per call. */
export type UsePrecision = 'fp32' | 'int8';
