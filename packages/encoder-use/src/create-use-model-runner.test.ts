import { describe, expect, it } from 'vitest';
import { createUseModelRunner, prepareWasmBackend } from './create-use-model-runner.js';
import { resolveUseModelDirectory } from './use-model-files.js';

describe('createUseModelRunner', () => {
  it('runs on the SIMD build of the wasm backend (the threaded build cannot start in Node.js)', async () => {
    expect(await prepareWasmBackend()).toEqual({ simd: true, multithreaded: false });
  });

  it('refuses a batch row without tokens, which would silently shrink the batch', async () => {
    const runner = await createUseModelRunner(resolveUseModelDirectory());
    try {
      const batch = { tokenIds: new Int32Array([16, 241]), rowStarts: new Int32Array([0, 2, 2]) };
      await expect(runner.embed(batch)).rejects.toThrow(/Row 1 of the batch has no tokens/);
      const vectors = await runner.embed({
        tokenIds: new Int32Array([16, 241]),
        rowStarts: new Int32Array([0, 2]),
      });
      expect(vectors).toHaveLength(512);
    } finally {
      runner.dispose();
    }
  });
});

describe('the synchronous path', () => {
  it('runs the shipped graph with the token layout fed from JavaScript, padding and all', async () => {
    const runner = await createUseModelRunner(resolveUseModelDirectory());
    try {
      expect(runner.execution).toBe('synchronous');
      // Rows of different lengths: the fed padding must not change any row's vector.
      const together = await runner.embed({
        tokenIds: new Int32Array([16, 241, 900, 31, 7, 5000, 44]),
        rowStarts: new Int32Array([0, 5, 7]),
      });
      const alone = await runner.embed({
        tokenIds: new Int32Array([5000, 44]),
        rowStarts: new Int32Array([0, 2]),
      });
      let largest = 0;
      for (let column = 0; column < 512; column++) {
        largest = Math.max(largest, Math.abs(together[512 + column]! - alone[column]!));
      }
      expect(largest).toBeLessThan(1e-5);
    } finally {
      runner.dispose();
    }
  });
});
