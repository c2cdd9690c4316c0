import onnxProto from 'onnx-proto';

/** The ONNX protobuf classes (onnx-proto ships them as one CommonJS namespace). */
export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
