import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createEstimatingTokenCounter,
  createHashingEncoder,
  createPersonalizer,
  loadTrainedArtifact,
} from '@userplug/core';
import { readProjectorFile } from '@userplug/onnx';
import { buildTinyDecoder } from '@userplug/onnx/testing';
import { createSyntheticLamp, syntheticHistories, writeLampFiles } from '@userplug/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliInMemory as run, temporaryFolder } from '../test-support/run-cli-in-memory.js';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
let directory: string;
let usersFile: string;

beforeAll(async () => {
  directory = await temporaryFolder('userplug-cli-train-');
  usersFile = join(directory, 'users.jsonl');
  const lines = syntheticHistories({ users: 4, items: 30, seed: 2 }).flatMap((history) =>
    history.items.map((item) => JSON.stringify({ userId: history.userId, ...item })),
  );
  await writeFile(usersFile, `${lines.join('\n')}\n`);
});

describe('userplug train', () => {
  it('trains self-supervised from a JSONL file, shows progress, writes an artifact a personalizer loads', async () => {
    const out = join(directory, 'model.json');
    const result = await run([
      'train',
      '--data',
      usersFile,
      '--objective',
      'self-supervised',
      '--out',
      out,
      '--epochs',
      '2',
      '--encoder',
      'hashing',
      '--batch-size',
      '16',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /epoch 2\/2 \[#+\] 100% {2}step \d+\/\d+ {2}loss \d\.\d{4}.* items\/s {2}ETA 0:00/,
    );
    expect(result.stdout).toMatch(/Wrote .*model.json \(self-supervised, encoder hashing-256/);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
    const artifact = await loadTrainedArtifact(out);
    expect(artifact.hyperParameters).toMatchObject({ epochs: 2, seed: 1, batchSize: 16 });
    const personalizer = createPersonalizer({
      encoder: createHashingEncoder(),
      trained: out,
      tokenCounter: await createEstimatingTokenCounter(),
    });
    const persona = await personalizer.personalize({
      userId: 'x',
      prompt: 'ramen recipe',
      history: syntheticHistories({ users: 1, items: 5, seed: 9 })[0]!.items,
    });
    expect(persona.persona.attributions.length).toBeGreaterThan(0);
    await personalizer.dispose();
  });

  it('trains from a SQLite store written by `userplug ingest`, and on LaMP-format data', async () => {
    const store = join(directory, 'store.db');
    for (const history of syntheticHistories({ users: 3, items: 20, seed: 4 })) {
      const file = join(directory, `${history.userId}.json`);
      await writeFile(file, JSON.stringify(history.items));
      expect(
        (await run(['ingest', '--user', history.userId, '--store', store, '--encoder', 'hashing', file]))
          .code,
      ).toBe(0);
    }
    const fromStore = await run([
      'train',
      '--data',
      store,
      '--objective',
      'self-supervised',
      '--out',
      join(directory, 'store-model.json'),
      '--epochs',
      '1',
      '--json',
    ]);
    expect(fromStore.stderr).toMatch(/Read 3 users from the store/);
    expect(JSON.parse(fromStore.stdout)).toMatchObject({
      objective: 'self-supervised',
      encoder: { id: 'hashing-256' },
    });

    const lampDirectory = join(directory, 'lamp');
    await writeLampFiles(
      lampDirectory,
      createSyntheticLamp({ task: 'LaMP_2', users: 40, seed: 1, profileSize: 8 }),
    );
    const lamp = await run([
      'train',
      '--data',
      lampDirectory,
      '--objective',
      'lamp',
      '--out',
      join(directory, 'lamp.json'),
      '--epochs',
      '1',
      '--encoder',
      'hashing',
      '--json',
    ]);
    expect(lamp.code).toBe(0);
    const artifact = await loadTrainedArtifact(join(directory, 'lamp.json'));
    expect(artifact.prototypes[0]).toMatchObject({ name: 'LaMP_2' });
  });

  it('also trains a projector for a local ONNX LLM with --llm', async () => {
    const tiny = await buildTinyDecoder({ directory: join(directory, 'tiny') });
    const lampDirectory = join(directory, 'lamp-llm');
    await writeLampFiles(
      lampDirectory,
      createSyntheticLamp({ task: 'LaMP_3', users: 10, seed: 3, profileSize: 4 }),
    );
    const out = join(directory, 'with-llm.json');
    process.env.USERPLUG_CACHE_DIR = join(directory, 'cache');
    const result = await run([
      'train',
      '--data',
      lampDirectory,
      '--objective',
      'lamp',
      '--out',
      out,
      '--epochs',
      '1',
      '--encoder',
      'hashing',
      '--llm',
      tiny.directory,
      '--zeroth-order-steps',
      '2',
    ]);
    delete process.env.USERPLUG_CACHE_DIR;
    expect(result.stderr).toMatch(/zeroth-order step 2\/2 {2}loss \d/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Wrote the projector .*with-llm.projector.json/);
    const artifact = await loadTrainedArtifact(out);
    expect(artifact.projectorFile).toBe('with-llm.projector.json');
    const projector = await readProjectorFile(join(directory, 'with-llm.projector.json'));
    expect(projector.encoder).toEqual({ id: 'hashing-256', dim: 256 });
  });

  it('explains wrong calls', async () => {
    expect((await run(['train', '--help'])).stdout).toMatch(/--objective NAME/);
    const missing = await run(['train', '--data', usersFile, '--out', join(directory, 'x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--objective must be "self-supervised" or "lamp"/);
    const llm = await run([
      'train',
      '--data',
      usersFile,
      '--objective',
      'self-supervised',
      '--out',
      'x.json',
      '--llm',
      'm',
    ]);
    expect(llm.stderr).toMatch(/--llm needs --objective lamp/);
    expect(
      (await run(['train', '--data', join(directory, 'nope'), '--objective', 'lamp', '--out', 'x.json']))
        .stderr,
    ).toMatch(/does not exist/);
  });

  it('continues from its checkpoint after the process is killed', async () => {
    const data = join(directory, 'big');
    await mkdir(data);
    for (const history of syntheticHistories({ users: 8, items: 60, seed: 6 })) {
      await writeFile(join(data, `${history.userId}.json`), JSON.stringify(history.items));
    }
    const out = join(directory, 'killed.json');
    const args = [
      'train',
      '--data',
      data,
      '--objective',
      'self-supervised',
      '--out',
      out,
      '--epochs',
      '6',
      '--encoder',
      'hashing',
      '--batch-size',
      '8',
    ];
    const command = [
      '--conditions=@userplug/source',
      '--import',
      'tsx',
      join(repository, 'packages/cli/src/bin.ts'),
      ...args,
    ];
    const killed = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, command, { cwd: repository });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // Epoch 2's line comes after epoch 1's checkpoint was written.
        if (/epoch 2\/6 /.test(stderr) && !child.killed) child.kill('SIGKILL');
      });
      child.on('close', () => resolve(stderr));
    });
    expect(killed).toMatch(/epoch 2\/6/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(`${out}.checkpoint`, 'state.json'))).toBe(true);
    const resumed = await run(args);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/Resumed from step \d+\./);
    expect(Number(/Resumed from step (\d+)/.exec(resumed.stderr)![1])).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
  }, 120_000);
});
