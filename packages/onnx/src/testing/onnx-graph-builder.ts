import { type OnnxTypes, onnx } from '../onnx-proto.js';

/** A dimension of a graph input or output: a fixed size or a named symbolic one such as `batch_size`. */
export type GraphDimension = number | string;

type AttributeValue = number | number[] | OnnxTypes.ITensorProto | { float: number };

/** `count` values uniform in [-scale, scale). */
export function randomValues(random: () => number, count: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = (random() * 2 - 1) * scale;
  return values;
}

function valueInfo(
  name: string,
  elementType: number,
  dimensions: readonly GraphDimension[],
): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elementType,
        shape: {
          dim: dimensions.map((dimension) =>
            typeof dimension === 'number' ? { dimValue: dimension } : { dimParam: dimension },
          ),
        },
      },
    },
  };
}

/** Builds an ONNX graph node by node, for the tiny test models. Names are generated unless given. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private counter = 0;

  private fresh(prefix: string): string {
    this.counter += 1;
    return `/${prefix}_${this.counter}`;
  }

  input(name: string, elementType: number, dimensions: readonly GraphDimension[]): string {
    this.inputs.push(valueInfo(name, elementType, dimensions));
    return name;
  }

  output(name: string, elementType: number, dimensions: readonly GraphDimension[]): void {
    this.outputs.push(valueInfo(name, elementType, dimensions));
  }

  /** A float32 initializer stored as raw little-endian bytes, like exporters write them. */
  floatTensor(values: Float32Array, dimensions: readonly number[], name?: string): string {
    const tensorName = name ?? this.fresh('const');
    this.initializers.push({
      name: tensorName,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims: [...dimensions],
      rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    });
    return tensorName;
  }

  int64Tensor(
    values: readonly number[],
    dimensions: readonly number[] = [values.length],
    name?: string,
  ): string {
    const tensorName = name ?? this.fresh('const');
    const data = new BigInt64Array(values.map((value) => BigInt(value)));
    this.initializers.push({
      name: tensorName,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [...dimensions],
      rawData: new Uint8Array(data.buffer),
    });
    return tensorName;
  }

  scalar(value: number): string {
    return this.floatTensor(Float32Array.of(value), []);
  }

  /** Adds a node; returns its output names (one unless `outputCount` says more). */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    outputCount = 1,
    outputNames?: readonly string[],
  ): string[] {
    const outputs = outputNames
      ? [...outputNames]
      : Array.from({ length: outputCount }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      name: this.fresh(`${opType}_node`),
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attributeOf(name, value)),
    });
    return outputs;
  }

  /** Shorthand for a single-output node. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.node(opType, inputs, attributes)[0]!;
  }

  /**
   * The finished model: IR version 8, opset 14. With `externalData`, initializers of 1 KiB or more
   * go to that file (returned as `data`), the way large exported models are stored.
   */
  model(graphName: string, options: { opset?: number; externalData?: string } = {}): OnnxModelBytes {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializers = this.initializers.map((tensor) => {
      const raw = tensor.rawData;
      if (options.externalData === undefined || !raw || raw.length < 1024) return tensor;
      chunks.push(raw);
      const entry: OnnxTypes.ITensorProto = {
        ...tensor,
        rawData: null,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: options.externalData },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      };
      offset += raw.length;
      return entry;
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'userplug-testing',
      opsetImport: [{ domain: '', version: options.opset ?? 14 }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    const data = new Uint8Array(offset);
    let position = 0;
    for (const chunk of chunks) {
      data.set(chunk, position);
      position += chunk.length;
    }
    return {
      model: onnx.ModelProto.encode(model).finish(),
      ...(options.externalData === undefined ? {} : { data }),
    };
  }
}

/** An encoded model and, when it stores initializers outside, the bytes of its external data file. */
export interface OnnxModelBytes {
  /** The ModelProto bytes. */
  model: Uint8Array;
  /** The external data file's bytes. */
  data?: Uint8Array;
}

function attributeOf(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: type.INT, i: value };
  if (Array.isArray(value)) return { name, type: type.INTS, ints: value };
  if ('float' in value) return { name, type: type.FLOAT, f: value.float };
  return { name, type: type.TENSOR, t: value };
}

/** A new, empty graph builder. */
export function createOnnxGraphBuilder(): OnnxGraphBuilder {
  return new OnnxGraphBuilder();
}
