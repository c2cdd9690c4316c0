import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore, FileFormatError } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { createSyntheticLamp, writeLampFiles } from './synthetic-lamp.js';
import {
  lampProfileToHistoryItem,
  readLampData,
  readStoreHistories,
  readTrainingHistories,
} from './training-data.js';

const item = (id: string, text: string) => ({ id, text });

describe('training data', () => {
  it('reads histories from a directory, JSONL (items or users) and every JSON shape', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'userplug-data-'));
    await mkdir(join(directory, 'users'));
    await writeFile(
      join(directory, 'users', 'ana.jsonl'),
      `${JSON.stringify(item('1', 'hello'))}\n${JSON.stringify(item('2', 'bye'))}\n`,
    );
    await writeFile(join(directory, 'users', 'bo.json'), JSON.stringify([item('1', 'hi')]));
    expect(await readTrainingHistories(join(directory, 'users'))).toEqual([
      { userId: 'ana', items: [item('1', 'hello'), item('2', 'bye')] },
      { userId: 'bo', items: [item('1', 'hi')] },
    ]);
    const lines = [
      { userId: 'ana', ...item('1', 'a') },
      { userId: 'bo', items: [item('9', 'b')] },
      { userId: 'ana', ...item('2', 'c') },
    ];
    await writeFile(join(directory, 'all.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n'));
    expect(await readTrainingHistories(join(directory, 'all.jsonl'))).toEqual([
      { userId: 'ana', items: [item('1', 'a'), item('2', 'c')] },
      { userId: 'bo', items: [item('9', 'b')] },
    ]);
    const expected = [{ userId: 'ana', items: [item('1', 'a')] }];
    for (const shape of [
      [{ userId: 'ana', items: [item('1', 'a')] }],
      { users: { ana: [item('1', 'a')] } },
      { ana: [item('1', 'a')] },
    ]) {
      await writeFile(join(directory, 'shape.json'), JSON.stringify(shape));
      expect(await readTrainingHistories(join(directory, 'shape.json'))).toEqual(expected);
    }
    await writeFile(join(directory, 'bad.json'), JSON.stringify([{ text: 'no user' }]));
    await expect(readTrainingHistories(join(directory, 'bad.json'))).rejects.toThrow(FileFormatError);
    await expect(readTrainingHistories(join(directory, 'missing'))).rejects.toThrow(/does not exist/);
  });

  it('reads a store’s users with their vectors', async () => {
    const store = createMemoryStore();
    const vectors = new Float32Array([1, 0]);
    await store.upsertItems('u', [
      {
        ...item('1', 'x'),
        itemHash: 'h',
        textHash: 't',
        encoderId: 'e',
        vectors,
        pieceCount: 1,
        tokenCount: 1,
      },
    ]);
    const [history] = await readStoreHistories(store);
    expect(history).toMatchObject({ userId: 'u', items: [{ id: '1', vectors }] });
  });

  it('reads LaMP layout folders, questions files and joined records', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'userplug-lamp-'));
    const data = createSyntheticLamp({ task: 'LaMP_2', users: 3, seed: 1 });
    await writeLampFiles(directory, data, 'dev');
    expect(await readLampData(directory)).toEqual(data);
    expect(await readLampData(join(directory, 'dev_questions.json'))).toEqual(data);
    await writeFile(
      join(directory, 'joined.jsonl'),
      data.examples.map((example) => JSON.stringify(example)).join('\n'),
    );
    expect((await readLampData(join(directory, 'joined.jsonl'))).examples).toEqual(data.examples);
    await expect(readLampData(directory, { split: 'train' })).rejects.toThrow(/train_questions.json/);
  });

  it('writes LaMP profile entries as items that carry the user’s own label', () => {
    expect(
      lampProfileToHistoryItem(
        'LaMP_2',
        { id: 'm1', description: 'Robots in space.', tag: 'sci-fi', date: '2020-01-02' },
        3,
      ),
    ).toEqual({
      id: '3:m1',
      text: 'description: Robots in space.\ntag: sci-fi',
      label: 'sci-fi',
      timestamp: Date.parse('2020-01-02'),
    });
    expect(lampProfileToHistoryItem('LaMP_3', { id: 'r', text: 'Great.', score: '5' }, 0)).toEqual({
      id: '0:r',
      text: 'text: Great.\nscore: 5',
      rating: 5,
    });
  });
});
