import * as tf from '@tensorflow/tfjs-core';

// tfjs-core's Node bundle ships no gradient functions (they live in ESM files Node cannot load), so the
// kernels the training graphs use get theirs here. Each is checked against finite differences in tests.

type Tensor = tf.Tensor;
type GradConfig = Parameters<typeof tf.registerGradient>[0];

/** Sums a broadcast gradient back to the shape of the input it came from. */
function unbroadcast(dy: Tensor, shape: readonly number[]): Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape as number[], dy.shape);
  const reduced = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(reduced, shape as number[]);
}

/** The shape a reduction over `axes` keeps with keepDims. */
function keptShape(shape: readonly number[], axes: number | number[] | null | undefined): number[] {
  const rank = shape.length;
  const list =
    axes === null || axes === undefined ? shape.map((_, axis) => axis) : Array.isArray(axes) ? axes : [axes];
  const normalized = list.map((axis) => (axis < 0 ? axis + rank : axis));
  return shape.map((size, axis) => (normalized.includes(axis) ? 1 : size));
}

/** A float32 zero gradient (the engine wants float32 gradients even for bool and int inputs). */
const zerosOf = (tensor: Tensor): Tensor => tf.zeros(tensor.shape, 'float32');

const zeroGradient = (inputs: string[]) => (_dy: Tensor | Tensor[], saved: Tensor[]) =>
  Object.fromEntries(inputs.map((name, position) => [name, () => zerosOf(saved[position]!)]));

const configs: GradConfig[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [Tensor, Tensor];
      return { a: () => unbroadcast(dy as Tensor, a.shape), b: () => unbroadcast(dy as Tensor, b.shape) };
    },
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [Tensor, Tensor];
      return {
        a: () => unbroadcast(dy as Tensor, a.shape),
        b: () => tf.neg(unbroadcast(dy as Tensor, b.shape)),
      };
    },
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [Tensor, Tensor];
      return {
        a: () => unbroadcast(tf.mul(dy as Tensor, tf.cast(b, 'float32')), a.shape),
        b: () => unbroadcast(tf.mul(dy as Tensor, tf.cast(a, 'float32')), b.shape),
      };
    },
  },
  {
    kernelName: 'RealDiv',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [Tensor, Tensor];
      return {
        a: () => unbroadcast(tf.div(dy as Tensor, b), a.shape),
        b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy as Tensor, a), tf.square(b))), b.shape),
      };
    },
  },
  { kernelName: 'Neg', gradFunc: (dy) => ({ x: () => tf.neg(dy as Tensor) }) },
  {
    kernelName: 'Exp',
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as Tensor, saved[0]!) }),
  },
  {
    kernelName: 'Log',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as Tensor, saved[0]!) }),
  },
  {
    kernelName: 'Sqrt',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as Tensor, tf.mul(tf.sqrt(saved[0]!), 2)) }),
  },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as Tensor, tf.mul(saved[0]!, 2)) }),
  },
  {
    kernelName: 'Tanh',
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(dy as Tensor, tf.sub(1, tf.square(saved[0]!))),
    }),
  },
  {
    kernelName: 'Erf',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(dy as Tensor, tf.mul(tf.exp(tf.neg(tf.square(saved[0]!))), 2 / Math.sqrt(Math.PI))),
    }),
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      const { axis } = attrs as unknown as { axis: number | number[] };
      const shape = keptShape(x.shape, axis);
      return { x: () => tf.mul(tf.reshape(dy as Tensor, shape), tf.onesLike(x)) };
    },
  },
  {
    kernelName: 'Max',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [Tensor, Tensor];
      const { reductionIndices } = attrs as unknown as { reductionIndices: number | number[] };
      const shape = keptShape(x.shape, reductionIndices);
      const mask = tf.cast(tf.equal(x, tf.reshape(y, shape)), 'float32');
      return { x: () => tf.mul(mask, tf.reshape(dy as Tensor, shape)) };
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as Tensor, saved[0]!.shape) }),
  },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs) => {
      const { perm } = attrs as unknown as { perm: number[] };
      const inverse = new Array<number>(perm.length);
      perm.forEach((axis, position) => {
        inverse[axis] = position;
      });
      return { x: () => tf.transpose(dy as Tensor, inverse) };
    },
  },
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [Tensor, Tensor];
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const d = dy as Tensor;
      if (a.rank !== b.rank) throw new Error('BatchMatMul gradient: operands of different ranks.');
      if (!transposeA && !transposeB)
        return { a: () => tf.matMul(d, b, false, true), b: () => tf.matMul(a, d, true, false) };
      if (!transposeA && transposeB)
        return { a: () => tf.matMul(d, b, false, false), b: () => tf.matMul(d, a, true, false) };
      if (transposeA && !transposeB)
        return { a: () => tf.matMul(b, d, false, true), b: () => tf.matMul(a, d, false, false) };
      return { a: () => tf.matMul(b, d, true, true), b: () => tf.matMul(d, a, true, true) };
    },
  },
  {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved as [Tensor, Tensor];
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if ((axis !== 0 && axis !== -x.rank) || batchDims !== 0 || indices.rank !== 1) {
        throw new Error('GatherV2 gradient: only axis 0 with 1-D indices is supported.');
      }
      return {
        x: () => tf.unsortedSegmentSum(dy as Tensor, indices as tf.Tensor1D, x.shape[0]!),
        indices: () => zerosOf(indices),
      };
    },
  },
  {
    kernelName: 'Select',
    inputsToSave: ['condition'],
    gradFunc: (dy, saved) => {
      const condition = saved[0]!;
      const d = dy as Tensor;
      return {
        condition: () => zerosOf(condition),
        t: () => tf.mul(d, tf.cast(condition, 'float32')),
        e: () => tf.mul(d, tf.sub(1, tf.cast(condition, 'float32'))),
      };
    },
  },
  {
    kernelName: 'Concat',
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const { axis } = attrs as unknown as { axis: number };
      const rank = saved[0]!.rank;
      const normalized = axis < 0 ? axis + rank : axis;
      const sizes = saved.map((tensor) => tensor.shape[normalized]!);
      const parts = tf.split(dy as Tensor, sizes, normalized);
      return parts.map((part) => () => part) as unknown as Record<string, () => Tensor>;
    },
  },
  {
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      const { begin, size } = attrs as unknown as { begin: number[]; size: number[] };
      const padding = x.shape.map((length, axis): [number, number] => {
        const start = begin[axis]!;
        const count = size[axis]! === -1 ? length - start : size[axis]!;
        return [start, length - start - count];
      });
      return { x: () => tf.pad(dy as Tensor, padding) };
    },
  },
  {
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const y = saved[0]!;
      const { dim } = attrs as unknown as { dim: number };
      const d = dy as Tensor;
      return { logits: () => tf.mul(y, tf.sub(d, tf.sum(tf.mul(d, y), [dim], true))) };
    },
  },
  {
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      const { reps } = attrs as unknown as { reps: number[] };
      const interleaved = x.shape.flatMap((size, axis) => [reps[axis]!, size]);
      const repeatAxes = x.shape.map((_, axis) => 2 * axis);
      return { x: () => tf.reshape(tf.sum(tf.reshape(dy as Tensor, interleaved), repeatAxes), x.shape) };
    },
  },
  { kernelName: 'Identity', gradFunc: (dy) => ({ x: () => tf.clone(dy as Tensor) }) },
  {
    kernelName: 'Cast',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => (saved[0]!.dtype === 'float32' ? tf.clone(dy as Tensor) : zerosOf(saved[0]!)),
    }),
  },
  // Piecewise-constant ops: no gradient flows through them (they act as stop-gradients).
  ...['ArgMax', 'ArgMin'].map((kernelName) => ({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: zeroGradient(['x']),
  })),
  { kernelName: 'OneHot', inputsToSave: ['indices'], gradFunc: zeroGradient(['indices']) },
  ...['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'].map(
    (kernelName) => ({ kernelName, inputsToSave: ['a', 'b'], gradFunc: zeroGradient(['a', 'b']) }),
  ),
];

let registered = false;

/** Registers the gradients the training graphs need (kernels that already have one keep it). */
export function registerTrainingGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of configs) {
    if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
  }
}
