import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUseModelArtifacts, readUseVocabulary, resolveUseModelDirectory } from './use-model-files.js';

describe('USE-lite model files', () => {
  it('finds the installed weights package', async () => {
    const directory = resolveUseModelDirectory();
    const artifacts = await readUseModelArtifacts(directory);
    expect(artifacts.weightData).toHaveLength(7);
    expect(readUseVocabulary(directory)).toHaveLength(8_000);
  });

  it('rebuilds the broken scores of the published vocabulary from their neighbours', () => {
    const vocabulary = readUseVocabulary(resolveUseModelDirectory());
    for (let id = 7; id < vocabulary.length; id += 1) {
      expect(vocabulary[id]![1]).toBeLessThanOrEqual(vocabulary[id - 1]![1]);
    }
    const colon = vocabulary[57]!;
    expect(colon[0]).toBe(':');
    expect(colon[1]).toBeGreaterThan(vocabulary[58]![1]);
    expect(colon[1]).toBeLessThan(vocabulary[56]![1]);
  });

  it('names the missing file and the fix', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'userplug-use-'));
    await expect(readUseModelArtifacts(empty)).rejects.toThrow(
      /model\.json.*@energetic-ai\/model-embeddings-en@0\.2\.0/s,
    );
    writeFileSync(
      join(empty, 'model.json'),
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['shard1'], weights: [] }] }),
    );
    await expect(readUseModelArtifacts(empty)).rejects.toThrow(/Missing model file .*shard1/);
    expect(() => readUseVocabulary(empty)).toThrow(/vocab\.json.*modelDirectory/s);
  });
});
