import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { type OnnxTypes, onnx } from './onnx-proto.js';

/** Element types userplug reads from ONNX tensors. */
export type TensorElementType = 'float32' | 'float16' | 'bfloat16';

const elementTypes: Record<number, TensorElementType> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.FLOAT16]: 'float16',
  [onnx.TensorProto.DataType.BFLOAT16]: 'bfloat16',
};

/** The element type of an ONNX data type, or undefined when userplug cannot read it. */
export function elementTypeOf(dataType: number | null | undefined): TensorElementType | undefined {
  return dataType === null || dataType === undefined ? undefined : elementTypes[dataType];
}

/** Bytes per element of a readable element type. */
export function bytesPerElement(type: TensorElementType): number {
  return type === 'float32' ? 4 : 2;
}

/** Where a tensor's bytes are: inside the model file, or in an external data file. */
export type TensorBytes =
  | { kind: 'inline'; bytes: Uint8Array }
  | { kind: 'external'; file: string; location: string; offset: number; length: number | undefined };

/** Decodes a model file. Throws a {@link FileFormatError} naming the file when it is not an ONNX model. */
export async function readModelProto(path: string): Promise<OnnxTypes.ModelProto> {
  const bytes = await readFile(path);
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new FileFormatError(
      path,
      `${path} is not a readable ONNX model (${(error as Error).message}). Point modelFile at the decoder's .onnx file.`,
      { cause: error },
    );
  }
}

/** Encodes a model. */
export function encodeModelProto(model: OnnxTypes.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Every graph of a model: the main graph, then the bodies of If/Loop/Scan nodes, depth first. */
export function* walkGraphs(graph: OnnxTypes.IGraphProto): Generator<OnnxTypes.IGraphProto> {
  yield graph;
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.g) yield* walkGraphs(attribute.g);
      for (const body of attribute.graphs ?? []) yield* walkGraphs(body);
    }
  }
}

/** The dimensions of a tensor as numbers. */
export function tensorDimensions(tensor: OnnxTypes.ITensorProto): number[] {
  return (tensor.dims ?? []).map((dimension) => Number(dimension));
}

/**
 * Where an initializer's bytes are. Inline float data stored in `float_data` is copied to bytes;
 * external data must live next to the model (a relative location without `..`).
 */
export function tensorBytes(tensor: OnnxTypes.ITensorProto, modelPath: string): TensorBytes {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
    const location = entries.get('location');
    if (!location || isAbsolute(location) || normalize(location).startsWith('..')) {
      throw new FileFormatError(
        modelPath,
        `Initializer "${tensor.name}" in ${modelPath} has external data at "${location ?? ''}", which is not a file next to the model. ` +
          'Keep the model and its external data file(s) in the same folder, as exported.',
      );
    }
    const length = entries.get('length');
    return {
      kind: 'external',
      file: join(dirname(modelPath), location),
      location,
      offset: Number(entries.get('offset') ?? 0),
      length: length === undefined ? undefined : Number(length),
    };
  }
  if (tensor.rawData && tensor.rawData.length > 0) return { kind: 'inline', bytes: tensor.rawData };
  if (tensor.floatData && tensor.floatData.length > 0) {
    const floats = Float32Array.from(tensor.floatData);
    return { kind: 'inline', bytes: new Uint8Array(floats.buffer) };
  }
  if (tensor.int32Data && tensor.int32Data.length > 0) {
    // float16 and bfloat16 values may be stored one per int32 entry.
    const halves = Uint16Array.from(tensor.int32Data);
    return { kind: 'inline', bytes: new Uint8Array(halves.buffer) };
  }
  return { kind: 'inline', bytes: new Uint8Array(0) };
}
