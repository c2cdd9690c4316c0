/**
 * Matrix kernels for the two passes every personalization makes over all of a user's vectors
 * (query dot products, attention-weighted sum), over float32 rows or int8 rows with one scale each.
 * WebAssembly SIMD runs them several times faster than plain JavaScript; the module is a few hundred
 * bytes assembled here, so core stays free of native and binary dependencies. Falls back to
 * JavaScript where SIMD is missing. int8 rows take a quarter of the memory, and the passes, which
 * are bound by memory bandwidth on large users, read a quarter of the bytes.
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
  f32Multiply: [0x94],
  f32ConvertI32: [0xb2],
  f32GreaterThan: [0x5e],
  if: [0x04, 0x40],
  v128Load: [0xfd, 0x00, 4, 0],
  v128LoadAt: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  v128Store: [0xfd, 0x0b, 4, 0],
  v128StoreAt: (offset: number) => [0xfd, 0x0b, 4, ...unsignedLeb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, 0x13],
  f32x4ExtractLane: (lane: number) => [0xfd, 0x1f, lane],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Multiply: [0xfd, 0xe6, 0x01],
  i32x4ExtractLane: (lane: number) => [0xfd, 0x1b, lane],
  i16x8ExtendLowI8x16: [0xfd, 0x87, 0x01],
  i16x8ExtendHighI8x16: [0xfd, 0x88, 0x01],
  i32x4ExtendLowI16x8: [0xfd, 0xa7, 0x01],
  i32x4ExtendHighI16x8: [0xfd, 0xa8, 0x01],
  i32x4Add: [0xfd, 0xae, 0x01],
  i32x4DotI16x8: [0xfd, 0xba, 0x01],
  f32x4ConvertI32x4: [0xfd, 0xfa, 0x01],
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

// Instruction runs the kernels share.
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
/** Starts a loop over a row's columns: column local at 0, a cursor local at the value of `from`, then the loop. */
const columnLoopStart = (column: number, cursor: number, from: number) => [
  ...op.i32Const(0),
  ...op.localSet(column),
  ...op.localGet(from),
  ...op.localSet(cursor),
  ...op.loop,
];
/** Ends it: `column += step`, back to the top while it is below the dimension (param 4). */
const columnLoopEnd = (column: number, step: number) => [
  ...op.localGet(column),
  ...op.i32Const(step),
  ...op.i32Add,
  ...op.localTee(column),
  ...op.localGet(4),
  ...op.i32LessThanUnsigned,
  ...op.brIf(0),
  ...op.end,
];
/** Adds the vector sums into the first, then its four lanes into one number (f32 or i32 lane ops). */
const horizontalSum = (
  sums: readonly number[],
  lanes: { add: number[]; extract: (lane: number) => number[]; addOne: number[] },
) => [
  ...op.localGet(sums[0]!),
  ...sums.slice(1).flatMap((sum) => [...op.localGet(sum), ...lanes.add]),
  ...op.localTee(sums[0]!),
  ...lanes.extract(0),
  ...op.localGet(sums[0]!),
  ...lanes.extract(1),
  ...lanes.addOne,
  ...op.localGet(sums[0]!),
  ...lanes.extract(2),
  ...op.localGet(sums[0]!),
  ...lanes.extract(3),
  ...lanes.addOne,
  ...lanes.addOne,
];
/** Opens the block of a row whose weight (at param 1) exceeds the threshold (param `threshold`). */
const ifWeightAbove = (threshold: number) => [
  ...op.localGet(1),
  ...op.f32Load,
  ...op.localGet(threshold),
  ...op.f32GreaterThan,
  ...op.if,
  ...op.localGet(1),
  ...op.f32Load,
];

// dots(matrix, query, out, rows, dimension): out[r] = matrix[r] · query. Locals: 5 column, 6 query cursor,
// 7… one f32x4 sum per accumulator. Several accumulators step 4 × accumulators columns at a time, so the adds
// of one row no longer wait on each other (the dimension must be a multiple of that step).
function dotsBody(accumulators: number): number[] {
  const sums = Array.from({ length: accumulators }, (_, index) => 7 + index);
  const step = 4 * accumulators;
  return [
    ...rowLoopStart,
    ...sums.flatMap((sum) => [...op.v128Zero, ...op.localSet(sum)]),
    ...columnLoopStart(5, 6, 1),
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
    ...columnLoopEnd(5, step),
    ...op.localGet(2),
    ...horizontalSum(sums, { add: op.f32x4Add, extract: op.f32x4ExtractLane, addOne: op.f32Add }),
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
  ...ifWeightAbove(5),
  ...op.f32x4Splat,
  ...op.localSet(7),
  ...columnLoopStart(6, 8, 2),
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
  ...columnLoopEnd(6, 4),
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

/** Columns one step of the int8 dot-product loop reads; int8 kernels need dimensions that are multiples of it. */
const int8Step = 32;

// int8Dots(matrix, query, out, rows, dimension, scales, queryScale): out[r] = scales[r] · queryScale ·
// Σ matrix[r][c] · query[c], with int8 rows and an int16 query, summed exactly in i32 lanes. Locals: 7 column,
// 8 query cursor, 9–12 four i32x4 sums, 13 the 16 bytes just loaded.
const int8DotsBody = (() => {
  const accumulate = (sum: number, extend: number[], queryOffset: number) => [
    ...op.localGet(sum),
    ...op.localGet(13),
    ...extend,
    ...op.localGet(8),
    ...op.v128LoadAt(queryOffset),
    ...op.i32x4DotI16x8,
    ...op.i32x4Add,
    ...op.localSet(sum),
  ];
  const load16 = (offset: number) => [...op.localGet(0), ...op.v128LoadAt(offset), ...op.localSet(13)];
  return [
    ...rowLoopStart,
    ...[9, 10, 11, 12].flatMap((sum) => [...op.v128Zero, ...op.localSet(sum)]),
    ...columnLoopStart(7, 8, 1),
    ...load16(0),
    ...accumulate(9, op.i16x8ExtendLowI8x16, 0),
    ...accumulate(10, op.i16x8ExtendHighI8x16, 16),
    ...load16(16),
    ...accumulate(11, op.i16x8ExtendLowI8x16, 32),
    ...accumulate(12, op.i16x8ExtendHighI8x16, 48),
    ...increment(0, int8Step),
    ...increment(8, 2 * int8Step),
    ...columnLoopEnd(7, int8Step),
    ...op.localGet(2),
    ...horizontalSum([9, 10, 11, 12], { add: op.i32x4Add, extract: op.i32x4ExtractLane, addOne: op.i32Add }),
    ...op.f32ConvertI32,
    ...op.localGet(5),
    ...op.f32Load,
    ...op.f32Multiply,
    ...op.localGet(6),
    ...op.f32Multiply,
    ...op.f32Store,
    ...increment(2, 4),
    ...increment(5, 4),
    ...rowLoopEnd,
  ];
})();

// int8WeightedSum(matrix, weights, out, rows, dimension, threshold, scales): out += Σ weights[r] · scales[r] ·
// matrix[r] over rows whose weight exceeds threshold, with int8 rows. Locals: 7 column, 8 weight splat,
// 9 out cursor, 10 the 16 bytes just loaded, 11 eight of them widened to i16.
const int8WeightedSumBody = (() => {
  const addQuarter = (extend: number[], outOffset: number) => [
    ...op.localGet(9),
    ...op.localGet(9),
    ...op.v128LoadAt(outOffset),
    ...op.localGet(11),
    ...extend,
    ...op.f32x4ConvertI32x4,
    ...op.localGet(8),
    ...op.f32x4Multiply,
    ...op.f32x4Add,
    ...op.v128StoreAt(outOffset),
  ];
  const widen = (extend: number[]) => [...op.localGet(10), ...extend, ...op.localSet(11)];
  return [
    ...rowLoopStart,
    ...ifWeightAbove(5),
    ...op.localGet(6),
    ...op.f32Load,
    ...op.f32Multiply,
    ...op.f32x4Splat,
    ...op.localSet(8),
    ...columnLoopStart(7, 9, 2),
    ...op.localGet(0),
    ...op.localGet(7),
    ...op.i32Add,
    ...op.v128Load,
    ...op.localSet(10),
    ...widen(op.i16x8ExtendLowI8x16),
    ...addQuarter(op.i32x4ExtendLowI16x8, 0),
    ...addQuarter(op.i32x4ExtendHighI16x8, 16),
    ...widen(op.i16x8ExtendHighI8x16),
    ...addQuarter(op.i32x4ExtendLowI16x8, 32),
    ...addQuarter(op.i32x4ExtendHighI16x8, 48),
    ...increment(9, 64),
    ...columnLoopEnd(7, 16),
    ...op.end,
    ...op.localGet(0),
    ...op.localGet(4),
    ...op.i32Add,
    ...op.localSet(0),
    ...increment(1, 4),
    ...increment(6, 4),
    ...rowLoopEnd,
  ];
})();

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
  const int8DotsFunction = [
    ...vector([
      [2, i32],
      [5, v128],
    ]),
    ...int8DotsBody,
  ];
  const int8WeightedSumFunction = [
    ...vector([
      [1, i32],
      [1, v128],
      [1, i32],
      [2, v128],
    ]),
    ...int8WeightedSumBody,
  ];
  const sized = (body: number[]) => [...unsignedLeb(body.length), ...body];
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
        [0x60, ...vector([[i32], [i32], [i32], [i32], [i32], [i32], [f32]]), 0],
        [0x60, ...vector([[i32], [i32], [i32], [i32], [i32], [f32], [i32]]), 0],
      ]),
    ),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0], [1], [0], [2], [3]])),
    ...section(
      7,
      vector([
        [...name('dots'), 0x00, 0],
        [...name('weightedSum'), 0x00, 1],
        [...name('wideDots'), 0x00, 2],
        [...name('int8Dots'), 0x00, 3],
        [...name('int8WeightedSum'), 0x00, 4],
      ]),
    ),
    ...section(
      10,
      vector([
        dotsFunction(1),
        [...unsignedLeb(weightedSumFunction.length), ...weightedSumFunction],
        dotsFunction(wideAccumulators),
        sized(int8DotsFunction),
        sized(int8WeightedSumFunction),
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

/** How a kernel stores its rows: float32, or int8 with one float32 scale per row. */
export type VectorPrecision = 'float32' | 'int8';

/** The piece and item rows of one user, and the two passes over them, whatever the storage. */
export interface VectorKernel {
  /** Columns per row. */
  readonly dimension: number;
  /** How the rows are stored. */
  readonly precision: VectorPrecision;
  /** True when the WebAssembly SIMD kernels run; false on the JavaScript fallback. */
  readonly simd: boolean;
  /** Bytes the piece and item rows take, with their scales. */
  readonly byteLength: number;
  /** Dot product of every piece row with the query. The returned array is reused by the next call. */
  pieceDots(query: Float32Array): Float32Array;
  /**
   * Dot products of the query with the piece rows in `ranges` (flat `[start, end, start, end, …]`, end
   * exclusive), written at those rows of the array `pieceDots` returns; other rows keep what they held.
   */
  pieceDotsInRanges(query: Float32Array, ranges: Int32Array): Float32Array;
  /** Σ weights[r] · items[r] over rows with weight above `threshold`. The returned array is reused. */
  weightedItemSum(weights: ArrayLike<number>, threshold: number): Float32Array;
  /** Piece row `row` as floats: a view of the storage (float32), or a new dequantized copy (int8). */
  pieceRow(row: number): Float32Array;
  /** Item row `row` as floats, like {@link VectorKernel.pieceRow}. */
  itemRow(row: number): Float32Array;
  /** Stores piece row `row` from `source` at `offset` (quantizing it for int8). */
  setPieceRow(row: number, source: Float32Array, offset?: number): void;
  /** Stores item row `row`; with shared items, item rows are the piece rows. */
  setItemRow(row: number, source: Float32Array, offset?: number): void;
}

/** A float32 kernel, whose matrices can also be written directly. */
export interface FloatVectorKernel extends VectorKernel {
  /** The piece matrix (`rows × dimension`). */
  readonly pieces: Float32Array;
  /** The item matrix; the same array as `pieces` when created with `sharedItems`. */
  readonly items: Float32Array;
}

/** Methods every kernel derives the same way from its row storage. */
function rowMethods(
  dimension: number,
  sharedItems: boolean,
  pieces: { row(row: number): Float32Array; set(row: number, source: Float32Array, offset: number): void },
  items: { row(row: number): Float32Array; set(row: number, source: Float32Array, offset: number): void },
) {
  return {
    pieceRow: (row: number) => pieces.row(row),
    itemRow: (row: number) => (sharedItems ? pieces : items).row(row),
    setPieceRow: (row: number, source: Float32Array, offset = 0) => pieces.set(row, source, offset),
    setItemRow: (row: number, source: Float32Array, offset = 0) =>
      (sharedItems ? pieces : items).set(row, source, offset),
    dimension,
  };
}

function floatRows(matrix: Float32Array, dimension: number) {
  return {
    row: (row: number) => matrix.subarray(row * dimension, (row + 1) * dimension),
    set: (row: number, source: Float32Array, offset: number) =>
      matrix.set(source.subarray(offset, offset + dimension), row * dimension),
  };
}

/** Rows of int8 codes with one scale each: a row is `scales[r] · codes[r]`. */
function int8Rows(codes: Int8Array, scales: Float32Array, dimension: number) {
  return {
    row(row: number) {
      const vector = new Float32Array(dimension);
      const scale = scales[row]!;
      const start = row * dimension;
      for (let column = 0; column < dimension; column++) vector[column] = codes[start + column]! * scale;
      return vector;
    },
    set(row: number, source: Float32Array, offset: number) {
      let largest = 0;
      for (let column = 0; column < dimension; column++) {
        const magnitude = Math.abs(source[offset + column]!);
        if (magnitude > largest) largest = magnitude;
      }
      const scale = largest / 127;
      scales[row] = scale;
      const start = row * dimension;
      for (let column = 0; column < dimension; column++)
        codes[start + column] = scale > 0 ? Math.round(source[offset + column]! / scale) : 0;
    },
  };
}

const aligned = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Allocates the float32 matrices of one user in WebAssembly memory when SIMD is available. */
export function createVectorKernel(
  pieceRows: number,
  itemRows: number,
  dimension: number,
  sharedItems: boolean,
): FloatVectorKernel {
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
  const exports = instantiate(module, totalBytes);
  const { buffer } = exports.memory;
  const pieces = new Float32Array(buffer, piecesOffset, pieceRows * dimension);
  const items = sharedItems ? pieces : new Float32Array(buffer, itemsOffset, itemRows * dimension);
  const query = new Float32Array(buffer, queryOffset, dimension);
  const dots = new Float32Array(buffer, dotsOffset, pieceRows);
  const weights = new Float32Array(buffer, weightsOffset, itemRows);
  const sum = new Float32Array(buffer, sumOffset, dimension);
  const rowDots = dimension % (4 * wideAccumulators) === 0 ? exports.wideDots : exports.dots;
  return {
    ...rowMethods(dimension, sharedItems, floatRows(pieces, dimension), floatRows(items, dimension)),
    precision: 'float32',
    byteLength: (pieces.length + (sharedItems ? 0 : items.length)) * 4,
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

interface KernelExports {
  memory: WebAssembly.Memory;
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
  int8Dots(
    matrix: number,
    query: number,
    out: number,
    rows: number,
    dimension: number,
    scales: number,
    queryScale: number,
  ): void;
  int8WeightedSum(
    matrix: number,
    weights: number,
    out: number,
    rows: number,
    dimension: number,
    threshold: number,
    scales: number,
  ): void;
}

function instantiate(module: WebAssembly.Module, totalBytes: number): KernelExports {
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(totalBytes / 65_536)) });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { ...(instance.exports as unknown as Omit<KernelExports, 'memory'>), memory };
}

/**
 * Allocates one user's rows as int8 with one scale per row (a quarter of float32's memory). Dot products
 * quantize the query to int16 and sum exactly in integers; the weighted sum accumulates in float32. Rows are
 * scaled by their largest magnitude, so a unit vector's cosines move by about 0.003 at most.
 */
export function createQuantizedVectorKernel(
  pieceRows: number,
  itemRows: number,
  dimension: number,
  sharedItems: boolean,
): VectorKernel {
  const module = dimension % int8Step === 0 ? simdModule() : null;
  const piecesOffset = 0;
  const pieceScalesOffset = aligned(pieceRows * dimension);
  const itemsOffset = aligned(pieceScalesOffset + pieceRows * 4);
  const itemScalesOffset = aligned(itemsOffset + (sharedItems ? 0 : itemRows * dimension));
  const queryOffset = aligned(itemScalesOffset + (sharedItems ? 0 : itemRows * 4));
  const dotsOffset = aligned(queryOffset + dimension * 2);
  const weightsOffset = aligned(dotsOffset + pieceRows * 4);
  const sumOffset = aligned(weightsOffset + itemRows * 4);
  const totalBytes = sumOffset + dimension * 4;
  const exports = module ? instantiate(module, totalBytes) : undefined;
  const buffer = exports ? exports.memory.buffer : new ArrayBuffer(totalBytes);
  const pieceCodes = new Int8Array(buffer, piecesOffset, pieceRows * dimension);
  const pieceScales = new Float32Array(buffer, pieceScalesOffset, pieceRows);
  const itemCodes = sharedItems ? pieceCodes : new Int8Array(buffer, itemsOffset, itemRows * dimension);
  const itemScales = sharedItems ? pieceScales : new Float32Array(buffer, itemScalesOffset, itemRows);
  const query = new Int16Array(buffer, queryOffset, dimension);
  const dots = new Float32Array(buffer, dotsOffset, pieceRows);
  const weights = new Float32Array(buffer, weightsOffset, itemRows);
  const sum = new Float32Array(buffer, sumOffset, dimension);
  // The largest query code keeps |Σ code · code| below 2^31 for any row of int8 codes.
  const queryLimit = Math.min(32_767, Math.floor(2_147_483_647 / (127 * dimension)));

  /** Quantizes the query into `query`; returns its scale. */
  function loadQuery(vector: Float32Array): number {
    let largest = 0;
    for (let column = 0; column < dimension; column++) {
      const magnitude = Math.abs(vector[column]!);
      if (magnitude > largest) largest = magnitude;
    }
    const scale = largest / queryLimit;
    for (let column = 0; column < dimension; column++)
      query[column] = scale > 0 ? Math.round(vector[column]! / scale) : 0;
    return scale;
  }

  function dotsOfRows(vector: Float32Array, start: number, end: number): void {
    for (let row = start; row < end; row++) {
      const offset = row * dimension;
      let total = 0;
      for (let column = 0; column < dimension; column++)
        total += pieceCodes[offset + column]! * vector[column]!;
      dots[row] = total * pieceScales[row]!;
    }
  }

  return {
    ...rowMethods(
      dimension,
      sharedItems,
      int8Rows(pieceCodes, pieceScales, dimension),
      int8Rows(itemCodes, itemScales, dimension),
    ),
    precision: 'int8',
    byteLength: (pieceRows + (sharedItems ? 0 : itemRows)) * (dimension + 4),
    simd: exports !== undefined,
    pieceDots(vector) {
      if (!exports) {
        dotsOfRows(vector, 0, pieceRows);
        return dots;
      }
      const scale = loadQuery(vector);
      exports.int8Dots(piecesOffset, queryOffset, dotsOffset, pieceRows, dimension, pieceScalesOffset, scale);
      return dots;
    },
    pieceDotsInRanges(vector, ranges) {
      const scale = exports ? loadQuery(vector) : 0;
      for (let index = 0; index + 1 < ranges.length; index += 2) {
        const start = ranges[index]!;
        const end = ranges[index + 1]!;
        if (end <= start) continue;
        if (!exports) {
          dotsOfRows(vector, start, end);
          continue;
        }
        exports.int8Dots(
          piecesOffset + start * dimension,
          queryOffset,
          dotsOffset + start * 4,
          end - start,
          dimension,
          pieceScalesOffset + start * 4,
          scale,
        );
      }
      return dots;
    },
    weightedItemSum(rowWeights, threshold) {
      weights.set(rowWeights);
      sum.fill(0);
      if (exports) {
        exports.int8WeightedSum(
          sharedItems ? piecesOffset : itemsOffset,
          weightsOffset,
          sumOffset,
          itemRows,
          dimension,
          threshold,
          sharedItems ? pieceScalesOffset : itemScalesOffset,
        );
        return sum;
      }
      for (let row = 0; row < itemRows; row++) {
        const weight = weights[row]!;
        if (!(weight > threshold)) continue;
        const factor = weight * itemScales[row]!;
        const offset = row * dimension;
        for (let column = 0; column < dimension; column++)
          sum[column] = sum[column]! + factor * itemCodes[offset + column]!;
      }
      return sum;
    },
  };
}

function createJavaScriptKernel(
  pieceRows: number,
  itemRows: number,
  dimension: number,
  sharedItems: boolean,
): FloatVectorKernel {
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
    ...rowMethods(dimension, sharedItems, floatRows(pieces, dimension), floatRows(items, dimension)),
    precision: 'float32',
    byteLength: (pieces.length + (sharedItems ? 0 : items.length)) * 4,
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
