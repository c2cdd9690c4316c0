import { type OnnxTypes, onnx } from './onnx-proto.js';
import { converterVersion, type UsePrecision } from './use-graph-version.js';
import type { UseModelArtifacts } from './use-model-files.js';

// Converts the USE-lite TF.js graph model, op by op, into an ONNX graph with the same inputs (`indices` [N, 2]
// and `values` [N], the sparse token ids) and the same output ([texts, 512], unit rows). This module reports
// plain Errors; the encoder wraps them.

/** The ONNX opset the converted graph declares. */
export const converterOpset = 17;

/** A converted graph and what went into it. */
export interface ConvertedUseGraph {
  /** The encoded ONNX ModelProto. */
  readonly bytes: Uint8Array;
  /** TF op → how many nodes of it were converted. */
  readonly tensorflowOps: Readonly<Record<string, number>>;
  /** ONNX op → how many nodes of it the graph holds. */
  readonly onnxOps: Readonly<Record<string, number>>;
  /** Matrix products whose constant weights were quantized (0 for fp32). */
  readonly quantizedMatMuls: number;
}

interface TensorflowAttribute {
  i?: string | number;
  b?: boolean;
  f?: number;
  s?: string | number[];
  type?: number | string;
  list?: { i?: (string | number)[] };
  shape?: { dim?: { size: string | number }[]; unknownRank?: boolean };
}

interface TensorflowNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TensorflowAttribute>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

type ElementKind = 'float' | 'int' | 'bool';

interface Constant {
  kind: ElementKind;
  dims: number[];
  values: Float32Array | Int32Array;
}

const onnxType = onnx.TensorProto.DataType;
const elementTypes: Record<ElementKind, number> = {
  float: onnxType.FLOAT,
  // TF int32 and int64 both become int64: ONNX wants int64 for shapes, indices and axes.
  int: onnxType.INT64,
  bool: onnxType.BOOL,
};

// TF DataType enum values (and their names, which some TF.js converters write instead).
const tensorflowKinds: Record<string, ElementKind> = {
  '1': 'float',
  DT_FLOAT: 'float',
  '3': 'int',
  DT_INT32: 'int',
  '9': 'int',
  DT_INT64: 'int',
  '10': 'bool',
  DT_BOOL: 'bool',
};

/** The TF ops this converter maps to ONNX. */
export const supportedTensorflowOps: readonly string[] = [
  'Add',
  'BatchMatMul',
  'BatchMatMulV2',
  'BiasAdd',
  'Cast',
  'ConcatV2',
  'Const',
  'Conv2D',
  'Cos',
  'ExpandDims',
  'GatherNd',
  'GatherV2',
  'Greater',
  'Identity',
  'Less',
  'LogicalNot',
  'MatMul',
  'Max',
  'Maximum',
  'Mean',
  'Mul',
  'Pack',
  'Placeholder',
  'Prod',
  'Range',
  'RealDiv',
  'Relu',
  'Reshape',
  'Rsqrt',
  'ScatterNd',
  'Shape',
  'Sin',
  'Slice',
  'Softmax',
  'SparseToDense',
  'SplitV',
  'Square',
  'Squeeze',
  'StridedSlice',
  'Sub',
  'Sum',
  'Tanh',
  'Transpose',
  'Where',
];

const int64Max = 2n ** 63n - 1n;

/** Name of output `index` of TF node `node` in the ONNX graph. */
function outputName(node: string, index: number): string {
  return index === 0 ? node : `${node}:${index}`;
}

/** A TF input reference (`node`, `node:1`, `^control`) as an ONNX value name; undefined for control inputs. */
function valueName(reference: string): string | undefined {
  if (reference.startsWith('^')) return undefined;
  const match = /^(.*):(\d+)$/.exec(reference);
  return match ? outputName(match[1]!, Number(match[2])) : reference;
}

function integer(attribute: TensorflowAttribute | undefined, fallback = 0): number {
  return attribute?.i === undefined ? fallback : Number(attribute.i);
}

function readConstants(artifacts: UseModelArtifacts): Map<string, Constant> {
  const specs = artifacts.weightSpecs as WeightSpec[];
  const total = artifacts.weightData.reduce((sum, shard) => sum + shard.byteLength, 0);
  const bytes = new Uint8Array(total);
  let position = 0;
  for (const shard of artifacts.weightData) {
    bytes.set(new Uint8Array(shard), position);
    position += shard.byteLength;
  }
  const constants = new Map<string, Constant>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization !== undefined) {
      throw new Error(
        `Weight "${spec.name}" is quantized in model.json; the converter reads float32 and int32.`,
      );
    }
    const count = spec.shape.reduce((product, size) => product * size, 1);
    const byteLength = count * 4;
    if (offset + byteLength > total) {
      throw new Error(
        `The weight shards end before weight "${spec.name}" (${offset + byteLength} > ${total} bytes).`,
      );
    }
    const slice = bytes.slice(offset, offset + byteLength).buffer;
    if (spec.dtype === 'float32') {
      constants.set(spec.name, { kind: 'float', dims: spec.shape, values: new Float32Array(slice) });
    } else if (spec.dtype === 'int32') {
      constants.set(spec.name, { kind: 'int', dims: spec.shape, values: new Int32Array(slice) });
    } else {
      throw new Error(
        `Weight "${spec.name}" has dtype ${spec.dtype}; the converter reads float32 and int32.`,
      );
    }
    offset += byteLength;
  }
  if (offset !== total) {
    throw new Error(`The weight shards hold ${total} bytes but model.json describes ${offset}.`);
  }
  return constants;
}

function tensorProto(name: string, constant: Constant): OnnxTypes.ITensorProto {
  let raw: Uint8Array;
  if (constant.kind === 'int') {
    const wide = BigInt64Array.from(constant.values, (value) => BigInt(value));
    raw = new Uint8Array(wide.buffer);
  } else {
    const values = constant.values;
    raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  return { name, dataType: elementTypes[constant.kind], dims: constant.dims, rawData: raw };
}

class GraphWriter {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly emitted = new Set<string>();
  private counter = 0;

  fresh(base: string): string {
    this.counter += 1;
    return `${base}/onnx_${this.counter}`;
  }

  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: OnnxTypes.IAttributeProto[] = [],
    domain = '',
  ): void {
    this.nodes.push({
      name: this.fresh(outputs[0]!),
      opType,
      domain,
      input: [...inputs],
      output: [...outputs],
      attribute: attributes,
    });
  }

  initializer(name: string, constant: Constant): string {
    if (!this.emitted.has(name)) {
      this.emitted.add(name);
      this.initializers.push(tensorProto(name, constant));
    }
    return name;
  }

  raw(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): string {
    this.emitted.add(name);
    this.initializers.push({ name, dataType, dims: [...dims], rawData: raw });
    return name;
  }

  ints(base: string, values: readonly (number | bigint)[], scalar = false): string {
    const wide = BigInt64Array.from(values, (value) => BigInt(value));
    return this.raw(
      this.fresh(base),
      onnxType.INT64,
      scalar ? [] : [values.length],
      new Uint8Array(wide.buffer),
    );
  }
}

const attribute = {
  int: (name: string, value: number): OnnxTypes.IAttributeProto => ({
    name,
    type: onnx.AttributeProto.AttributeType.INT,
    i: value,
  }),
  ints: (name: string, values: readonly number[]): OnnxTypes.IAttributeProto => ({
    name,
    type: onnx.AttributeProto.AttributeType.INTS,
    ints: [...values],
  }),
};

/**
 * Converts the USE-lite TF.js graph (`modelTopology` of model.json and its weights) into an ONNX model.
 * Throws an Error naming the first op or weight it cannot convert.
 */
export function convertUseGraph(
  artifacts: UseModelArtifacts,
  settings: { precision?: UsePrecision } = {},
): ConvertedUseGraph {
  const precision = settings.precision ?? 'fp32';
  const topology = artifacts.modelTopology as { node?: TensorflowNode[] };
  const nodes = topology.node ?? [];
  if (nodes.length === 0) throw new Error('model.json has no graph nodes.');
  const constants = readConstants(artifacts);
  const writer = new GraphWriter();
  const kinds = new Map<string, ElementKind>();
  const ranks = new Map<string, number>();
  const tensorflowOps: Record<string, number> = {};
  const inputs: OnnxTypes.IValueInfoProto[] = [];
  const consumed = new Set<string>();
  let quantizedMatMuls = 0;

  for (const node of nodes) {
    for (const reference of node.input ?? []) {
      const name = valueName(reference);
      if (name !== undefined) consumed.add(name.replace(/:\d+$/, ''));
    }
  }

  const constantOf = (name: string): Constant | undefined => constants.get(name);
  const ints = (name: string, node: TensorflowNode): number[] => {
    const constant = constantOf(name);
    if (constant?.kind !== 'int') {
      throw new Error(`${node.op} "${node.name}" needs a constant integer input "${name}"; it is computed.`);
    }
    return Array.from(constant.values);
  };
  const tensor = (name: string): string => {
    const constant = constantOf(name);
    if (constant !== undefined) {
      kinds.set(name, constant.kind);
      ranks.set(name, constant.dims.length);
      return writer.initializer(name, constant);
    }
    return name;
  };
  const kindOf = (name: string): ElementKind => {
    const kind = kinds.get(name) ?? constantOf(name)?.kind;
    if (kind === undefined)
      throw new Error(`The type of "${name}" is unknown: is the graph in topological order?`);
    return kind;
  };

  const matMulWithWeights = (
    input: string,
    weights: Float32Array,
    rows: number,
    columns: number,
    output: string,
  ): void => {
    if (precision === 'fp32') {
      const weightName = writer.fresh(`${output}/weights`);
      writer.initializer(weightName, { kind: 'float', dims: [rows, columns], values: weights });
      writer.node('MatMul', [input, weightName], [output]);
      return;
    }
    quantizedMatMuls += 1;
    // Symmetric int8 per output column; activations get one uint8 scale and zero point per call.
    const scales = new Float32Array(columns);
    for (let row = 0; row < rows; row += 1) {
      for (let column = 0; column < columns; column += 1) {
        const magnitude = Math.abs(weights[row * columns + column]!);
        if (magnitude > scales[column]!) scales[column] = magnitude;
      }
    }
    for (let column = 0; column < columns; column += 1) scales[column] = scales[column]! / 127 || 1;
    const quantized = new Int8Array(rows * columns);
    for (let index = 0; index < quantized.length; index += 1) {
      quantized[index] = Math.max(
        -127,
        Math.min(127, Math.round(weights[index]! / scales[index % columns]!)),
      );
    }
    const base = output;
    const weightName = writer.raw(
      writer.fresh(`${base}/weights_int8`),
      onnxType.INT8,
      [rows, columns],
      new Uint8Array(quantized.buffer),
    );
    const weightZero = writer.raw(
      writer.fresh(`${base}/weights_zero`),
      onnxType.INT8,
      [columns],
      new Uint8Array(columns),
    );
    const weightScale = writer.initializer(writer.fresh(`${base}/weights_scale`), {
      kind: 'float',
      dims: [columns],
      values: scales,
    });
    const [quantizedInput, inputScale, inputZero] = [
      writer.fresh(`${base}/input_uint8`),
      writer.fresh(`${base}/input_scale`),
      writer.fresh(`${base}/input_zero`),
    ] as const;
    writer.node('DynamicQuantizeLinear', [input], [quantizedInput, inputScale, inputZero]);
    const product = writer.fresh(`${base}/int32`);
    writer.node('MatMulInteger', [quantizedInput, weightName, inputZero, weightZero], [product]);
    const asFloat = writer.fresh(`${base}/float`);
    writer.node('Cast', [product], [asFloat], [attribute.int('to', onnxType.FLOAT)]);
    const scale = writer.fresh(`${base}/scale`);
    writer.node('Mul', [inputScale, weightScale], [scale]);
    writer.node('Mul', [asFloat, scale], [output]);
  };

  const transposeLastTwo = (name: string, node: TensorflowNode): string => {
    const rank = ranks.get(name);
    if (rank === undefined || rank < 2) {
      throw new Error(
        `${node.op} "${node.name}" transposes "${name}", whose rank the converter cannot tell.`,
      );
    }
    const perm = Array.from({ length: rank }, (_, axis) => axis);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    const transposed = writer.fresh(`${name}/transposed`);
    writer.node('Transpose', [name], [transposed], [attribute.ints('perm', perm)]);
    return transposed;
  };

  for (const node of nodes) {
    const attributes = node.attr ?? {};
    const inputNames = (node.input ?? []).flatMap((reference) => {
      const name = valueName(reference);
      return name === undefined ? [] : [name];
    });
    const output = outputName(node.name, 0);
    const declared =
      attributes.DstT?.type ??
      attributes.out_type?.type ??
      attributes.dtype?.type ??
      attributes.Tparams?.type ??
      attributes.T?.type;
    let kind: ElementKind | undefined =
      declared === undefined ? undefined : tensorflowKinds[String(declared)];
    const unary = (opType: string) => writer.node(opType, [tensor(inputNames[0]!)], [output]);
    const binary = (opType: string) =>
      writer.node(opType, [tensor(inputNames[0]!), tensor(inputNames[1]!)], [output]);
    const sameRankAsInputs = () => {
      const known = inputNames.map((name) => ranks.get(name) ?? constantOf(name)?.dims.length);
      if (known.every((rank) => rank !== undefined)) ranks.set(output, Math.max(...(known as number[])));
    };
    const reduce = (opType: string) => {
      const axes = ints(inputNames[1]!, node);
      const keepDimensions = attributes.keep_dims?.b === true ? 1 : 0;
      if (opType === 'ReduceSum') {
        writer.node(
          opType,
          [tensor(inputNames[0]!), writer.ints(output, axes)],
          [output],
          [attribute.int('keepdims', keepDimensions)],
        );
      } else {
        writer.node(
          opType,
          [tensor(inputNames[0]!)],
          [output],
          [attribute.ints('axes', axes), attribute.int('keepdims', keepDimensions)],
        );
      }
    };

    switch (node.op) {
      case 'Const': {
        const constant = constantOf(node.name);
        if (constant === undefined) throw new Error(`Const "${node.name}" has no weight in the shards.`);
        kinds.set(node.name, constant.kind);
        ranks.set(node.name, constant.dims.length);
        continue;
      }
      case 'Placeholder': {
        if (kind === undefined) throw new Error(`Placeholder "${node.name}" has an unsupported dtype.`);
        const dims = (attributes.shape?.shape?.dim ?? []).map((dimension, axis) =>
          Number(dimension.size) >= 0
            ? { dimValue: Number(dimension.size) }
            : { dimParam: `${node.name}_${axis}` },
        );
        inputs.push({
          name: node.name,
          type: { tensorType: { elemType: elementTypes[kind], shape: { dim: dims } } },
        });
        ranks.set(node.name, dims.length);
        break;
      }
      case 'Identity':
        unary('Identity');
        break;
      case 'Add':
      case 'BiasAdd':
        binary('Add');
        sameRankAsInputs();
        break;
      case 'Sub':
        binary('Sub');
        sameRankAsInputs();
        break;
      case 'Mul':
        binary('Mul');
        sameRankAsInputs();
        break;
      case 'RealDiv':
        binary('Div');
        sameRankAsInputs();
        break;
      case 'Maximum':
        binary('Max');
        sameRankAsInputs();
        break;
      case 'Less':
        binary('Less');
        kind = 'bool';
        break;
      case 'Greater':
        binary('Greater');
        kind = 'bool';
        break;
      case 'LogicalNot':
        unary('Not');
        kind = 'bool';
        break;
      case 'Square': {
        const value = tensor(inputNames[0]!);
        writer.node('Mul', [value, value], [output]);
        sameRankAsInputs();
        break;
      }
      case 'Rsqrt': {
        const root = writer.fresh(`${output}/sqrt`);
        writer.node('Sqrt', [tensor(inputNames[0]!)], [root]);
        writer.node('Reciprocal', [root], [output]);
        sameRankAsInputs();
        break;
      }
      case 'Sin':
      case 'Cos':
      case 'Tanh':
      case 'Relu':
        unary(node.op);
        sameRankAsInputs();
        break;
      case 'Softmax':
        writer.node('Softmax', [tensor(inputNames[0]!)], [output], [attribute.int('axis', -1)]);
        sameRankAsInputs();
        break;
      case 'Cast':
        if (kind === undefined) throw new Error(`Cast "${node.name}" casts to an unsupported type.`);
        writer.node('Cast', [tensor(inputNames[0]!)], [output], [attribute.int('to', elementTypes[kind])]);
        sameRankAsInputs();
        break;
      case 'Shape':
        unary('Shape');
        kind = 'int';
        ranks.set(output, 1);
        break;
      case 'Where': {
        if (inputNames.length !== 1)
          throw new Error(`Where "${node.name}" with 3 inputs (select) is not supported.`);
        const coordinates = writer.fresh(`${output}/nonzero`);
        writer.node('NonZero', [tensor(inputNames[0]!)], [coordinates]);
        writer.node('Transpose', [coordinates], [output], [attribute.ints('perm', [1, 0])]);
        kind = 'int';
        ranks.set(output, 2);
        break;
      }
      case 'Reshape':
        writer.node('Reshape', [tensor(inputNames[0]!), tensor(inputNames[1]!)], [output]);
        break;
      case 'GatherV2': {
        const [axis = 0] = ints(inputNames[2]!, node);
        writer.node(
          'Gather',
          [tensor(inputNames[0]!), tensor(inputNames[1]!)],
          [output],
          [attribute.int('axis', axis)],
        );
        break;
      }
      case 'GatherNd':
        binary('GatherND');
        break;
      case 'ScatterNd': {
        // ScatterNd(indices, updates, shape) writes updates into zeros of `shape`.
        const updatesKind = kindOf(inputNames[1]!);
        const zero = writer.fresh(`${output}/zeros`);
        const zeroValue: Constant =
          updatesKind === 'float'
            ? { kind: 'float', dims: [1], values: new Float32Array(1) }
            : { kind: 'int', dims: [1], values: new Int32Array(1) };
        writer.node(
          'ConstantOfShape',
          [tensor(inputNames[2]!)],
          [zero],
          [
            {
              name: 'value',
              type: onnx.AttributeProto.AttributeType.TENSOR,
              t: tensorProto('value', zeroValue),
            },
          ],
        );
        writer.node('ScatterND', [zero, tensor(inputNames[0]!), tensor(inputNames[1]!)], [output]);
        kind = updatesKind;
        break;
      }
      case 'SparseToDense': {
        // SparseToDense(indices, shape, values, default) = ScatterND(Expand(default, shape), indices, values).
        const filled = writer.fresh(`${output}/filled`);
        writer.node('Expand', [tensor(inputNames[3]!), tensor(inputNames[1]!)], [filled]);
        writer.node('ScatterND', [filled, tensor(inputNames[0]!), tensor(inputNames[2]!)], [output]);
        break;
      }
      case 'StridedSlice': {
        const begins = ints(inputNames[1]!, node);
        const ends = ints(inputNames[2]!, node);
        const strides = ints(inputNames[3]!, node);
        if (integer(attributes.ellipsis_mask) !== 0 || integer(attributes.new_axis_mask) !== 0) {
          throw new Error(
            `StridedSlice "${node.name}" uses an ellipsis or new-axis mask, which is not supported.`,
          );
        }
        const beginMask = integer(attributes.begin_mask);
        const endMask = integer(attributes.end_mask);
        const shrinkMask = integer(attributes.shrink_axis_mask);
        const starts: bigint[] = [];
        const stops: bigint[] = [];
        const shrunk: number[] = [];
        begins.forEach((begin, axis) => {
          const stride = strides[axis] ?? 1;
          const bit = 1 << axis;
          if (shrinkMask & bit) {
            starts.push(BigInt(begin));
            stops.push(begin === -1 ? int64Max : BigInt(begin + 1));
            shrunk.push(axis);
            return;
          }
          starts.push(beginMask & bit ? (stride > 0 ? 0n : -int64Max) : BigInt(begin));
          stops.push(endMask & bit ? (stride > 0 ? int64Max : -int64Max) : BigInt(ends[axis]!));
        });
        const axes = begins.map((_, axis) => axis);
        const sliced = shrunk.length > 0 ? writer.fresh(`${output}/slice`) : output;
        writer.node(
          'Slice',
          [
            tensor(inputNames[0]!),
            writer.ints(output, starts),
            writer.ints(output, stops),
            writer.ints(output, axes),
            writer.ints(output, strides),
          ],
          [sliced],
        );
        if (shrunk.length > 0) writer.node('Squeeze', [sliced, writer.ints(output, shrunk)], [output]);
        const inputRank = ranks.get(inputNames[0]!);
        if (inputRank !== undefined) ranks.set(output, inputRank - shrunk.length);
        break;
      }
      case 'Slice': {
        const begins = ints(inputNames[1]!, node);
        const sizes = ints(inputNames[2]!, node);
        const stops = begins.map((begin, axis) =>
          sizes[axis] === -1 ? int64Max : BigInt(begin + sizes[axis]!),
        );
        writer.node(
          'Slice',
          [
            tensor(inputNames[0]!),
            writer.ints(output, begins),
            writer.ints(output, stops),
            writer.ints(
              output,
              begins.map((_, axis) => axis),
            ),
          ],
          [output],
        );
        ranks.set(output, ranks.get(inputNames[0]!) ?? begins.length);
        break;
      }
      case 'ExpandDims': {
        const axes = ints(inputNames[1]!, node);
        writer.node('Unsqueeze', [tensor(inputNames[0]!), writer.ints(output, axes)], [output]);
        const rank = ranks.get(inputNames[0]!);
        if (rank !== undefined) ranks.set(output, rank + 1);
        break;
      }
      case 'Squeeze': {
        const axes = (attributes.squeeze_dims?.list?.i ?? []).map(Number);
        const squeezeInputs = [tensor(inputNames[0]!)];
        if (axes.length > 0) squeezeInputs.push(writer.ints(output, axes));
        writer.node('Squeeze', squeezeInputs, [output]);
        const rank = ranks.get(inputNames[0]!);
        if (rank !== undefined && axes.length > 0) ranks.set(output, rank - axes.length);
        break;
      }
      case 'Transpose': {
        const perm = ints(inputNames[1]!, node);
        writer.node('Transpose', [tensor(inputNames[0]!)], [output], [attribute.ints('perm', perm)]);
        ranks.set(output, perm.length);
        break;
      }
      case 'ConcatV2': {
        const count = inputNames.length - 1;
        const [axis = 0] = ints(inputNames[count]!, node);
        writer.node(
          'Concat',
          inputNames.slice(0, count).map(tensor),
          [output],
          [attribute.int('axis', axis)],
        );
        sameRankAsInputs();
        break;
      }
      case 'Pack': {
        const axis = integer(attributes.axis);
        const expanded = inputNames.map((name) => {
          const unsqueezed = writer.fresh(`${output}/part`);
          writer.node('Unsqueeze', [tensor(name), writer.ints(output, [axis])], [unsqueezed]);
          return unsqueezed;
        });
        writer.node('Concat', expanded, [output], [attribute.int('axis', axis)]);
        const rank = ranks.get(inputNames[0]!) ?? constantOf(inputNames[0]!)?.dims.length;
        if (rank !== undefined) ranks.set(output, rank + 1);
        break;
      }
      case 'SplitV': {
        const sizes = ints(inputNames[1]!, node);
        const [axis = 0] = ints(inputNames[2]!, node);
        const outputs = sizes.map((_, index) => outputName(node.name, index));
        writer.node('Split', [tensor(inputNames[0]!), writer.ints(output, sizes)], outputs, [
          attribute.int('axis', axis),
        ]);
        const rank = ranks.get(inputNames[0]!);
        for (const name of outputs) {
          if (kind !== undefined) kinds.set(name, kind);
          if (rank !== undefined) ranks.set(name, rank);
        }
        break;
      }
      case 'Range':
        writer.node('Range', inputNames.map(tensor), [output]);
        kind = kindOf(inputNames[0]!);
        ranks.set(output, 1);
        break;
      case 'Sum':
        reduce('ReduceSum');
        break;
      case 'Mean':
        reduce('ReduceMean');
        break;
      case 'Max':
        reduce('ReduceMax');
        break;
      case 'Prod':
        reduce('ReduceProd');
        break;
      case 'MatMul':
      case 'BatchMatMul':
      case 'BatchMatMulV2': {
        const transposeA = attributes.transpose_a?.b === true || attributes.adj_x?.b === true;
        const transposeB = attributes.transpose_b?.b === true || attributes.adj_y?.b === true;
        const weights = constantOf(inputNames[1]!);
        if (!transposeA && !transposeB && weights?.kind === 'float' && weights.dims.length === 2) {
          const [rows, columns] = weights.dims as [number, number];
          matMulWithWeights(tensor(inputNames[0]!), weights.values as Float32Array, rows, columns, output);
        } else {
          const left = transposeA ? transposeLastTwo(tensor(inputNames[0]!), node) : tensor(inputNames[0]!);
          const right = transposeB ? transposeLastTwo(tensor(inputNames[1]!), node) : tensor(inputNames[1]!);
          writer.node('MatMul', [left, right], [output]);
        }
        sameRankAsInputs();
        break;
      }
      case 'Conv2D': {
        // A 1×1 convolution with unit strides over NHWC is a matrix product over the channel axis.
        const kernel = constantOf(inputNames[1]!);
        const format = attributes.data_format?.s;
        const formatText = Array.isArray(format) ? String.fromCharCode(...format) : (format ?? 'NHWC');
        const unit = (list: TensorflowAttribute | undefined) =>
          (list?.list?.i ?? []).every((value) => Number(value) === 1);
        if (
          kernel?.kind !== 'float' ||
          kernel.dims.length !== 4 ||
          kernel.dims[0] !== 1 ||
          kernel.dims[1] !== 1 ||
          formatText !== 'NHWC' ||
          !unit(attributes.strides) ||
          !unit(attributes.dilations)
        ) {
          throw new Error(
            `Conv2D "${node.name}" is not a 1×1, unit-stride NHWC convolution with constant weights.`,
          );
        }
        matMulWithWeights(
          tensor(inputNames[0]!),
          kernel.values as Float32Array,
          kernel.dims[2]!,
          kernel.dims[3]!,
          output,
        );
        sameRankAsInputs();
        break;
      }
      default:
        throw new Error(`The converter has no ONNX mapping for TF op ${node.op} (node "${node.name}").`);
    }
    tensorflowOps[node.op] = (tensorflowOps[node.op] ?? 0) + 1;
    if (kind === undefined) throw new Error(`The output type of ${node.op} "${node.name}" is unknown.`);
    if (!kinds.has(output)) kinds.set(output, kind);
  }
  tensorflowOps.Const = nodes.filter((node) => node.op === 'Const').length;

  const outputs = nodes.filter((node) => node.op !== 'Const' && !consumed.has(node.name));
  if (outputs.length !== 1) {
    throw new Error(
      `Expected one graph output, found ${outputs.length}: ${outputs.map((node) => node.name).join(', ')}.`,
    );
  }
  writer.node('Identity', [outputs[0]!.name], ['embeddings']);

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'userplug-encoder-use',
    producerVersion: String(converterVersion),
    opsetImport: [{ domain: '', version: converterOpset }],
    graph: {
      name: `use-lite-${precision}`,
      node: writer.nodes,
      initializer: writer.initializers,
      input: inputs,
      output: [
        {
          name: 'embeddings',
          type: {
            tensorType: {
              elemType: onnxType.FLOAT,
              shape: { dim: [{ dimParam: 'texts' }, { dimValue: 512 }] },
            },
          },
        },
      ],
    },
  });
  const onnxOps: Record<string, number> = {};
  for (const onnxNode of writer.nodes) onnxOps[onnxNode.opType!] = (onnxOps[onnxNode.opType!] ?? 0) + 1;
  return { bytes: onnx.ModelProto.encode(model).finish(), tensorflowOps, onnxOps, quantizedMatMuls };
}
