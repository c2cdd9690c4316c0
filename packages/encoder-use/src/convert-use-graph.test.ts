import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ConvertedUseGraph, convertUseGraph, supportedTensorflowOps } from './convert-use-graph.js';
import { tokenizeForUse } from './create-use-tokenizer.js';
import { type OnnxTypes, onnx } from './onnx-proto.js';
import {
  readUseModelArtifacts,
  resolveUseModelDirectory,
  type UseModelArtifacts,
} from './use-model-files.js';

interface GraphNode {
  op: string;
}

let artifacts: UseModelArtifacts;
let fp32: ConvertedUseGraph;
let int8: ConvertedUseGraph;

beforeAll(async () => {
  artifacts = await readUseModelArtifacts(resolveUseModelDirectory());
  fp32 = convertUseGraph(artifacts);
  int8 = convertUseGraph(artifacts, { precision: 'int8' });
});

function tensorflowOpCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of (artifacts.modelTopology as { node: GraphNode[] }).node) {
    counts[node.op] = (counts[node.op] ?? 0) + 1;
  }
  return counts;
}

async function embedWith(
  model: Uint8Array,
  texts: readonly string[],
): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const rows = texts.map((text) => tokenizeForUse(text, 128));
    const indices: bigint[] = [];
    const values: bigint[] = [];
    for (const [rowIndex, row] of rows.entries()) {
      for (const [column, id] of row.entries()) {
        indices.push(BigInt(rowIndex), BigInt(column));
        values.push(BigInt(id));
      }
    }
    const output = await session.run({
      indices: new ort.Tensor('int64', BigInt64Array.from(indices), [values.length, 2]),
      values: new ort.Tensor('int64', BigInt64Array.from(values), [values.length]),
    });
    return { dims: output.embeddings!.dims, data: output.embeddings!.data as Float32Array };
  } finally {
    await session.release();
  }
}

describe('convertUseGraph on the installed USE-lite model', () => {
  it('converts every node of every op kind the TF.js graph uses', () => {
    const counts = tensorflowOpCounts();
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(40);
    for (const op of Object.keys(counts)) expect(supportedTensorflowOps).toContain(op);
    expect(fp32.tensorflowOps).toEqual(counts);
  });

  it('declares the sparse token inputs and one [texts, 512] float output, with standard ONNX ops only', () => {
    const model = onnx.ModelProto.decode(fp32.bytes);
    const graph = model.graph!;
    const shapeOf = (value: OnnxTypes.IValueInfoProto) =>
      value.type!.tensorType!.shape!.dim!.map((dimension) =>
        dimension.dimParam ? dimension.dimParam : Number(dimension.dimValue),
      );
    expect(graph.input!.map((value) => [value.name, value.type!.tensorType!.elemType])).toEqual([
      ['indices', onnx.TensorProto.DataType.INT64],
      ['values', onnx.TensorProto.DataType.INT64],
    ]);
    expect(shapeOf(graph.input![0]!)[1]).toBe(2);
    expect(graph.output!.map((value) => value.name)).toEqual(['embeddings']);
    expect(shapeOf(graph.output![0]!)).toEqual(['texts', 512]);
    expect(graph.node!.every((node) => (node.domain ?? '') === '')).toBe(true);
    expect(Number(model.opsetImport![0]!.version)).toBe(17);
    // The fp32 graph keeps every weight: 6,975,914 numbers in the shards.
    const weightBytes = graph.initializer!.reduce((sum, tensor) => sum + (tensor.rawData?.length ?? 0), 0);
    expect(weightBytes).toBeGreaterThan(6_900_000 * 4);
  });

  it('maps TF ops without a direct ONNX twin to their standard equivalents', () => {
    expect(fp32.onnxOps.NonZero).toBe(tensorflowOpCounts().Where);
    expect(fp32.onnxOps.ScatterND).toBe(
      tensorflowOpCounts().ScatterNd! + tensorflowOpCounts().SparseToDense!,
    );
    // Conv2D (1×1), MatMul and BatchMatMul all become MatMul.
    const counts = tensorflowOpCounts();
    expect(fp32.onnxOps.MatMul).toBe(counts.Conv2D! + counts.MatMul! + counts.BatchMatMul!);
    expect(fp32.quantizedMatMuls).toBe(0);
  });

  it('quantizes every matrix product with constant weights in the int8 graph, and only those', () => {
    const counts = tensorflowOpCounts();
    expect(int8.quantizedMatMuls).toBe(counts.Conv2D! + counts.MatMul!);
    expect(int8.onnxOps.MatMulInteger).toBe(int8.quantizedMatMuls);
    expect(int8.onnxOps.DynamicQuantizeLinear).toBe(int8.quantizedMatMuls);
    expect(int8.onnxOps.MatMul).toBe(counts.BatchMatMul);
    expect(int8.bytes.length).toBeLessThan(fp32.bytes.length * 0.55);
  });

  it('runs on onnxruntime-node: one unit row per text, whatever the batch', async () => {
    const texts = [
      'ok',
      'I love hiking in the mountains',
      'We booked a small hotel near the beach in Spain.',
    ];
    for (const model of [fp32.bytes, int8.bytes]) {
      const { dims, data } = await embedWith(model, texts);
      expect(dims).toEqual([3, 512]);
      for (let row = 0; row < 3; row += 1) {
        let norm = 0;
        for (let column = 0; column < 512; column += 1) norm += data[row * 512 + column]! ** 2;
        expect(Math.abs(Math.sqrt(norm) - 1)).toBeLessThan(1e-4);
      }
      const alone = await embedWith(model, [texts[2]!]);
      let largest = 0;
      for (let column = 0; column < 512; column += 1) {
        largest = Math.max(largest, Math.abs(alone.data[column]! - data[2 * 512 + column]!));
      }
      // Padding never leaks into a row (int8: the per-call activation scale differs slightly between batches).
      expect(largest).toBeLessThan(model === fp32.bytes ? 1e-5 : 0.01);
    }
  });

  it('writes the same bytes every time, so two processes converting at once write identical files', () => {
    expect(Buffer.from(convertUseGraph(artifacts).bytes).equals(Buffer.from(fp32.bytes))).toBe(true);
  });

  it('names an op it cannot convert', () => {
    const topology = artifacts.modelTopology as { node: (GraphNode & { name: string })[] };
    const broken = {
      ...artifacts,
      modelTopology: { ...topology, node: [...topology.node, { name: 'odd', op: 'Atan2', input: [] }] },
    };
    expect(() => convertUseGraph(broken)).toThrow(/no ONNX mapping for TF op Atan2 \(node "odd"\)/);
  });

  it('names the weight the shards end before', () => {
    const short = { ...artifacts, weightData: artifacts.weightData.slice(0, 6) };
    expect(() => convertUseGraph(short)).toThrow(/shards end before weight/);
  });
});
