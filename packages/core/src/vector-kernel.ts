/**
 * Matrix kernels for the two passes every personalization makes over all of a user's vectors
 * (query dot products, attention-weighted sum). WebAssembly SIMD (f32x4) runs them several
 * times faster than plain JavaScript; the module is a few dozen bytes assembled here, so core
 * stays free of native and binary dependencies. Falls back to JavaScript where SIMD is missing.
 */

// Node has WebAssembly, but TypeScript types it only in the DOM library: declare the part used here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number });
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}

const i32 = 0x7f;
const f32 = 0x7d;
const v128 = 0x7b;

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  localGet: (index: number) => [0x20, index],
  localSet: (index: number) => [0x21, index],
  localTee: (index: number) => [0x22, index],
  i32Const: (value: number) => [0x41, ...signedLeb(value)],
  i32Add: [0x6a],
  i32Multiply: [0x6c],
  i32LessThanUnsigned: [0x49],
  i32EqualZero: [0x45],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32GreaterThan: [0x5e],
  if: [0x04, 0x40],
  v128Load: [0xfd, 0x00, 4, 0],
  v128LoadAt: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  v128Store: [0xfd, 0x0b, 4, 0],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, 0x13],
  f32x4ExtractLane: (lane: number) => [0xfd, 0x1f, lane],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Multiply: [0xfd, 0xe6, 0x01],
};

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

const vector = (items: number[][]) => [...unsignedLeb(items.length), ...items.flat()];
const name = (text: string) => vector([...text].map((character) => [character.charCodeAt(0)]));
const section = (id: number, bytes: number[]) => [id, ...unsignedLeb(bytes.length), ...bytes];

// Instruction runs both kernels share.
/** `local += amount` (i32). */
const increment = (local: number, amount: number) => [
  ...op.localGet(local),
  ...op.i32Const(amount),
  ...op.i32Add,
  ...op.localSet(local),
];
/** Opens the loop over rows: leaves when the row count (param 3) reaches 0. */
const rowLoopStart = [...op.block, ...op.loop, ...op.localGet(3), ...op.i32EqualZero, ...op.brIf(1)];
/** Closes it: one row fewer, back to the top, then closes the loop, the block and the function. */
const rowLoopEnd = [...increment(3, -1), ...op.br(0), ...op.end, ...op.end, ...op.end];

// dots(matrix, query, out, rows, dimension): out[r] = matrix[r] · query. Locals: 5 column, 6 query cursor,
// 7… one f32x4 sum per accumulator. Several accumulators step 4 × accumulators columns at a time, so the adds
// of one row no longer wait on each other (the dimension must be a multiple of that step).
function dotsBody(accumulators: number): number[] {
  const sums = Array.from({ length: accumulators }, (_, index) => 7 + index);
  const step = 4 * accumulators;
  const horizontalSum = [...op.localGet(sums[0]!)];
  for (const sum of sums.slice(1)) horizontalSum.push(...op.localGet(sum), ...op.f32x4Add);
  horizontalSum.push(...op.localTee(sums[0]!));
  return [
    ...rowLoopStart,
    ...sums.flatMap((sum) => [...op.v128Zero, ...op.localSet(sum)]),
    ...op.i32Const(0),
    ...op.localSet(5),
    ...op.localGet(1),
    ...op.localSet(6),
    ...op.loop,
    ...sums.flatMap((sum, index) => [
      ...op.localGet(sum),
      ...op.localGet(0),
      ...op.v128LoadAt(16 * index),
      ...op.localGet(6),
      ...op.v128LoadAt(16 * index),
      ...op.f32x4Multiply,
      ...op.f32x4Add,
      ...op.localSet(sum),
    ]),
    ...increment(0, 4 * step),
    ...increment(6, 4 * step),
    ...op.localGet(5),
    ...op.i32Const(step),
    ...op.i32Add,
    ...op.localTee(5),
    ...op.localGet(4),
    ...op.i32LessThanUnsigned,
    ...op.brIf(0),
    ...op.end,
    ...op.localGet(2),
    ...horizontalSum,
    ...op.f32x4ExtractLane(0),
    ...op.localGet(sums[0]!),
    ...op.f32x4ExtractLane(1),
    ...op.f32Add,
    ...op.localGet(sums[0]!),
    ...op.f32x4ExtractLane(2),
    ...op.localGet(sums[0]!),
    ...op.f32x4ExtractLane(3),
    ...op.f32Add,
    ...op.f32Add,
    ...op.f32Store,
    ...increment(2, 4),
    ...rowLoopEnd,
  ];
}

/** Accumulators of the wide dot-product kernel, used when the dimension is a multiple of 16. */
const wideAccumulators = 4;

// weightedSum(matrix, weights, out, rows, dimension, threshold): out += Σ weights[r]·matrix[r] over
// rows whose weight exceeds threshold. Locals: 6 column, 7 weight splat, 8 out cursor.
const weightedSumBody = [
  ...rowLoopStart,
  ...op.localGet(1),
  ...op.f32Load,
  ...op.localGet(5),
  ...op.f32GreaterThan,
  ...op.if,
  ...op.localGet(1),
  ...op.f32Load,
  ...op.f32x4Splat,
  ...op.localSet(7),
  ...op.i32Const(0),
  ...op.localSet(6),
  ...op.localGet(2),
  ...op.localSet(8),
  ...op.loop,
  ...op.localGet(8),
  ...op.localGet(8),
  ...op.v128Load,
  ...op.localGet(7),
  ...op.localGet(0),
  ...op.localGet(6),
  ...op.i32Const(4),
  // Row offset = column × 4 bytes: column counts floats, so scale once here.
  ...op.i32Multiply,
  ...op.i32Add,
  ...op.v128Load,
  ...op.f32x4Multiply,
  ...op.f32x4Add,
  ...op.v128Store,
  ...increment(8, 16),
  ...op.localGet(6),
  ...op.i32Const(4),
  ...op.i32Add,
  ...op.localTee(6),
  ...op.localGet(4),
  ...op.i32LessThanUnsigned,
  ...op.brIf(0),
  ...op.end,
  ...op.end,
  ...op.localGet(0),
  ...op.localGet(4),
  ...op.i32Const(4),
  ...op.i32Multiply,
  ...op.i32Add,
  ...op.localSet(0),
  ...increment(1, 4),
  ...rowLoopEnd,
];

function assembleModule(): Uint8Array {
  const dotsFunction = (accumulators: number) => {
    const body = [
      ...vector([
        [2, i32],
        [accumulators, v128],
      ]),
      ...dotsBody(accumulators),
    ];
    return [...unsignedLeb(body.length), ...body];
  };
  const weightedSumFunction = [
    ...vector([
      [1, i32],
      [1, v128],
      [1, i32],
    ]),
    ...weightedSumBody,
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vector([
        [0x60, ...vector([[i32], [i32], [i32], [i32], [i32]]), 0],
        [0x60, ...vector([[i32], [i32], [i32], [i32], [i32], [f32]]), 0],
      ]),
    ),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0], [1], [0]])),
    ...section(
      7,
      vector([
        [...name('dots'), 0x00, 0],
        [...name('weightedSum'), 0x00, 1],
        [...name('wideDots'), 0x00, 2],
      ]),
    ),
    ...section(
      10,
      vector([
        dotsFunction(1),
        [...unsignedLeb(weightedSumFunction.length), ...weightedSumFunction],
        dotsFunction(wideAccumulators),
      ]),
    ),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = assembleModule();
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Row-major matrices of one user plus the two passes over them. */
export interface VectorKernel {
  /** Columns per row. */
  readonly dimension: number;
  /** The piece matrix, to fill in (`rows × dimension`). */
  readonly pieces: Float32Array;
  /** The item matrix, to fill in; the same array as `pieces` when created with `sharedItems`. */
  readonly items: Float32Array;
  /** True when the WebAssembly SIMD kernels run; false on the JavaScript fallback. */
  readonly simd: boolean;
  /** Dot product of every piece row with the query. The returned array is reused by the next call. */
  pieceDots(query: Float32Array): Float32Array;
  /**
   * Dot products of the query with the piece rows in `ranges` (flat `[start, end, start, end, …]`, end
   * exclusive), written at those rows of the array `pieceDots` returns; other rows keep what they held.
   */
  pieceDotsInRanges(query: Float32Array, ranges: Int32Array): Float32Array;
  /** Σ weights[r] · items[r] over rows with weight above `threshold`. */
  weightedItemSum(weights: ArrayLike<number>, threshold: number): Float32Array;
}

/** Allocates the matrices of one user in WebAssembly memory when SIMD is available. */
export function createVectorKernel(
  pieceRows: number,
  itemRows: number,
  dimension: number,
  sharedItems: boolean,
): VectorKernel {
  const module = dimension % 4 === 0 ? simdModule() : null;
  if (!module) return createJavaScriptKernel(pieceRows, itemRows, dimension, sharedItems);
  const bytesPerRow = dimension * 4;
  const piecesOffset = 0;
  const itemsOffset = piecesOffset + pieceRows * bytesPerRow;
  const queryOffset = itemsOffset + (sharedItems ? 0 : itemRows * bytesPerRow);
  const dotsOffset = queryOffset + bytesPerRow;
  const weightsOffset = dotsOffset + pieceRows * 4;
  const sumOffset = weightsOffset + itemRows * 4;
  const totalBytes = sumOffset + bytesPerRow;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(totalBytes / 65_536)) });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as {
    dots(matrix: number, query: number, out: number, rows: number, dimension: number): void;
    wideDots(matrix: number, query: number, out: number, rows: number, dimension: number): void;
    weightedSum(
      matrix: number,
      weights: number,
      out: number,
      rows: number,
      dimension: number,
      threshold: number,
    ): void;
  };
  const pieces = new Float32Array(memory.buffer, piecesOffset, pieceRows * dimension);
  const items = sharedItems ? pieces : new Float32Array(memory.buffer, itemsOffset, itemRows * dimension);
  const query = new Float32Array(memory.buffer, queryOffset, dimension);
  const dots = new Float32Array(memory.buffer, dotsOffset, pieceRows);
  const weights = new Float32Array(memory.buffer, weightsOffset, itemRows);
  const sum = new Float32Array(memory.buffer, sumOffset, dimension);
  const rowDots = dimension % (4 * wideAccumulators) === 0 ? exports.wideDots : exports.dots;
  return {
    dimension,
    pieces,
    items,
    simd: true,
    pieceDots(vector) {
      query.set(vector);
      rowDots(piecesOffset, queryOffset, dotsOffset, pieceRows, dimension);
      return dots;
    },
    pieceDotsInRanges(vector, ranges) {
      query.set(vector);
      for (let index = 0; index + 1 < ranges.length; index += 2) {
        const start = ranges[index]!;
        const rows = ranges[index + 1]! - start;
        if (rows <= 0) continue;
        rowDots(piecesOffset + start * bytesPerRow, queryOffset, dotsOffset + start * 4, rows, dimension);
      }
      return dots;
    },
    weightedItemSum(rowWeights, threshold) {
      weights.set(rowWeights);
      sum.fill(0);
      exports.weightedSum(
        sharedItems ? piecesOffset : itemsOffset,
        weightsOffset,
        sumOffset,
        itemRows,
        dimension,
        threshold,
      );
      return sum;
    },
  };
}

function createJavaScriptKernel(
  pieceRows: number,
  itemRows: number,
  dimension: number,
  sharedItems: boolean,
): VectorKernel {
  const pieces = new Float32Array(pieceRows * dimension);
  const items = sharedItems ? pieces : new Float32Array(itemRows * dimension);
  const dots = new Float32Array(pieceRows);
  const sum = new Float32Array(dimension);
  const dotsOfRows = (query: Float32Array, start: number, end: number) => {
    for (let row = start, offset = start * dimension; row < end; row++, offset += dimension) {
      let total = 0;
      for (let column = 0; column < dimension; column++) total += pieces[offset + column]! * query[column]!;
      dots[row] = total;
    }
    return dots;
  };
  return {
    dimension,
    pieces,
    items,
    simd: false,
    pieceDots(query) {
      return dotsOfRows(query, 0, pieceRows);
    },
    pieceDotsInRanges(query, ranges) {
      for (let index = 0; index + 1 < ranges.length; index += 2)
        dotsOfRows(query, ranges[index]!, ranges[index + 1]!);
      return dots;
    },
    weightedItemSum(weights, threshold) {
      sum.fill(0);
      for (let row = 0; row < itemRows; row++) {
        const weight = weights[row]!;
        if (!(weight > threshold)) continue;
        const offset = row * dimension;
        for (let column = 0; column < dimension; column++)
          sum[column] = sum[column]! + weight * items[offset + column]!;
      }
      return sum;
    },
  };
}
