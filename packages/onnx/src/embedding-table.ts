import { closeSync, openSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '@userplug/core';
import { bfloat16ToFloat, halfToFloat } from './float16.js';
import { bytesPerElement, type TensorElementType } from './onnx-model-file.js';

/** The LLM's token-embedding table: looks up the input embeddings of prompt tokens. */
export interface EmbeddingTable {
  /** Rows (token ids). */
  readonly vocabSize: number;
  /** Columns: the LLM's hidden size. */
  readonly hiddenSize: number;
  /** Median L2 norm of the rows (sampled): the length of a typical token embedding. */
  readonly typicalNorm: number;
  /** The rows of `ids`, concatenated: `ids.length × hiddenSize` float32 values. */
  lookup(ids: readonly number[]): Float32Array;
  /** Frees the table. */
  close(): void;
}

/** Where a table's bytes are: a file region holding a row-major `[vocab, hidden]` tensor. */
export interface EmbeddingTableSource {
  /** File holding the table. */
  file: string;
  /** Byte offset of row 0. */
  offset: number;
  /** Element type of the stored values. */
  elementType: TensorElementType;
  /** Rows. */
  vocabSize: number;
  /** Columns. */
  hiddenSize: number;
}

/** Tables up to this size are read into memory; larger ones are read row by row from the file. */
const inMemoryLimitBytes = 256 * 1024 * 1024;

function decodeRow(
  bytes: Uint8Array,
  type: TensorElementType,
  target: Float32Array,
  targetOffset: number,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / bytesPerElement(type);
  for (let index = 0; index < count; index++) {
    target[targetOffset + index] =
      type === 'float32'
        ? view.getFloat32(index * 4, true)
        : type === 'float16'
          ? halfToFloat(view.getUint16(index * 2, true))
          : bfloat16ToFloat(view.getUint16(index * 2, true));
  }
}

/**
 * Opens a table from a file region; `typicalNorm` is measured unless given. Tables up to
 * `inMemoryLimitBytes` (default 256 MiB) are read into memory, larger ones row by row.
 */
export function openEmbeddingTable(
  source: EmbeddingTableSource,
  typicalNorm?: number,
  options: { inMemoryLimitBytes?: number } = {},
): EmbeddingTable {
  const { vocabSize, hiddenSize, elementType } = source;
  const rowBytes = hiddenSize * bytesPerElement(elementType);
  const totalBytes = rowBytes * vocabSize;
  let memory: Uint8Array | undefined;
  let descriptor: number | undefined = openSync(source.file, 'r');
  if (totalBytes <= (options.inMemoryLimitBytes ?? inMemoryLimitBytes)) {
    memory = new Uint8Array(totalBytes);
    const read = readSync(descriptor, memory, 0, totalBytes, source.offset);
    closeSync(descriptor);
    descriptor = undefined;
    if (read !== totalBytes) {
      throw new InvalidArgumentError(
        'modelDirectory',
        `The embedding table in ${source.file} is cut short (${read} of ${totalBytes} bytes). Download the model again.`,
      );
    }
  }
  const rowScratch = new Uint8Array(rowBytes);
  const readRow = (id: number, target: Float32Array, targetOffset: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InvalidArgumentError(
        'tokenIds',
        `Token id ${id} is outside the embedding table (0…${vocabSize - 1}).`,
      );
    }
    if (memory) {
      decodeRow(memory.subarray(id * rowBytes, (id + 1) * rowBytes), elementType, target, targetOffset);
      return;
    }
    if (descriptor === undefined)
      throw new InvalidArgumentError('embeddings', 'The embedding table was closed.');
    readSync(descriptor, rowScratch, 0, rowBytes, source.offset + id * rowBytes);
    decodeRow(rowScratch, elementType, target, targetOffset);
  };
  const lookup = (ids: readonly number[]): Float32Array => {
    const values = new Float32Array(ids.length * hiddenSize);
    ids.forEach((id, position) => {
      readRow(id, values, position * hiddenSize);
    });
    return values;
  };
  const norm = typicalNorm ?? measureTypicalNorm(lookup, vocabSize, hiddenSize);
  return {
    vocabSize,
    hiddenSize,
    typicalNorm: norm,
    lookup,
    close() {
      memory = undefined;
      if (descriptor !== undefined) closeSync(descriptor);
      descriptor = undefined;
    },
  };
}

/** Median row norm over up to 2,048 evenly spaced rows. */
function measureTypicalNorm(
  lookup: (ids: readonly number[]) => Float32Array,
  vocabSize: number,
  hiddenSize: number,
): number {
  const sampleCount = Math.min(vocabSize, 2048);
  const ids = Array.from({ length: sampleCount }, (_, index) =>
    Math.floor((index * vocabSize) / sampleCount),
  );
  const rows = lookup(ids);
  const norms = ids.map((_, row) => {
    let squared = 0;
    for (let column = 0; column < hiddenSize; column++) squared += rows[row * hiddenSize + column]! ** 2;
    return Math.sqrt(squared);
  });
  norms.sort((left, right) => left - right);
  return norms[Math.floor(norms.length / 2)] ?? 1;
}
