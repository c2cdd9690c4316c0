import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonFile } from './read-json-file.js';
import { FileFormatError } from './userplug-error.js';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'userplug-read-json-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function failure(path: string, options: Parameters<typeof readJsonFile>[1]): Promise<FileFormatError> {
  const error = await readJsonFile(path, options).catch((caught: unknown) => caught);
  expect(FileFormatError.isInstance(error)).toBe(true);
  return error as FileFormatError;
}

describe('readJsonFile', () => {
  it('parses a JSON file', async () => {
    const path = join(folder, 'settings.json');
    await writeFile(path, '{ "budget": 120, "kinds": ["post", "review"] }');
    expect(await readJsonFile(path, { fix: 'unused' })).toEqual({ budget: 120, kinds: ['post', 'review'] });
  });

  it('names the file, the parser’s reason and the fix when the text is not JSON', async () => {
    const path = join(folder, 'broken.json');
    await writeFile(path, '{ "budget": 120,');
    const error = await failure(path, { what: 'Checkpoint', fix: 'Delete it to start over.' });
    expect(error.message).toMatch(
      new RegExp(`^Checkpoint ${path} could not be read as JSON: .*JSON.*\\. Delete it to start over\\.$`),
    );
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.path).toBe(path);
  });

  it('says the same for a missing file, with the system’s reason', async () => {
    const path = join(folder, 'missing.json');
    const error = await failure(path, { fix: 'Pass the path `userplug train --out` wrote.' });
    expect(error.message).toBe(
      `${path} could not be read as JSON: ENOENT: no such file or directory, open '${path}'. Pass the path \`userplug train --out\` wrote.`,
    );
  });
});
