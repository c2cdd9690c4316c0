import onnxProto from 'onnx-proto';

/** The ONNX protobuf classes (onnx-proto ships them as one CommonJS namespace). */
export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** An int64 field as protobufjs decodes it: a number, or a Long when the `long` package is present. */
export type Int64 = number | { toNumber(): number };

/** An int64 protobuf field as a JavaScript number. */
export function toNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
