import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddingTable } from './embedding-table.js';
import { floatsToHalves } from './float16.js';

let root: string;
// 4 rows × 3 columns; row norms 1, 2, 3, 4.
const rows = Float32Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 4, 0]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-table-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('openEmbeddingTable', () => {
  it('looks up float32 rows at an offset, in memory or from the file, and measures the median norm', async () => {
    const file = join(root, 'float32.bin');
    await writeFile(file, Buffer.concat([Buffer.from('header!!'), Buffer.from(rows.buffer)]));
    for (const inMemoryLimitBytes of [1 << 20, 0]) {
      const table = openEmbeddingTable(
        { file, offset: 8, elementType: 'float32', vocabSize: 4, hiddenSize: 3 },
        undefined,
        { inMemoryLimitBytes },
      );
      expect(Array.from(table.lookup([3, 1, 3]))).toEqual([0, 4, 0, 0, 2, 0, 0, 4, 0]);
      expect(table.typicalNorm).toBe(3);
      expect(() => table.lookup([4])).toThrow(/outside the embedding table/);
      table.close();
    }
  });

  it('converts float16 rows to float32', async () => {
    const file = join(root, 'float16.bin');
    await writeFile(file, Buffer.from(floatsToHalves(rows).buffer));
    const table = openEmbeddingTable(
      { file, offset: 0, elementType: 'float16', vocabSize: 4, hiddenSize: 3 },
      2.5,
    );
    expect(Array.from(table.lookup([2, 0]))).toEqual([0, 0, 3, 1, 0, 0]);
    expect(table.typicalNorm).toBe(2.5);
    table.close();
  });
});
