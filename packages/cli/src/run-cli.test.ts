import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCliInMemory as run, temporaryFolder } from '../test-support/run-cli-in-memory.js';

const sampleHistory = fileURLToPath(new URL('../../../examples/sample-history.jsonl', import.meta.url));

describe('userplug personalize', () => {
  it('prints the prompt, descriptors, attributions and token accounting', async () => {
    const result = await run([
      'personalize',
      '--history',
      sampleHistory,
      '--prompt',
      'Recommend a sci-fi novel',
      '--encoder',
      'hashing',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('<user_persona>');
    expect(result.stdout).toContain('Recommend a sci-fi novel');
    expect(result.stdout).toMatch(/Descriptors: .+/);
    expect(result.stdout).toMatch(/Top attributions/);
    expect(result.stdout).toMatch(/persona \d+ of budget 300/);
  });

  it('prints the documented JSON shape with --json', async () => {
    const result = await run([
      'personalize',
      '--history',
      sampleHistory,
      '--prompt',
      'Plan a dinner for vegan friends',
      '--budget',
      '180',
      '--encoder',
      'hashing',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(Object.keys(output)).toEqual(expect.arrayContaining(['prompt', 'messages', 'persona', 'usage']));
    expect(Object.keys(output.persona)).toEqual(
      expect.arrayContaining(['descriptors', 'evidence', 'attributions']),
    );
    expect(output.usage.personaTokens).toBeLessThanOrEqual(180);
    expect(output.messages[0].role).toBe('system');
    expect(output.messages[1]).toEqual({ role: 'user', content: 'Plan a dinner for vegan friends' });
  });

  it('explains usage mistakes with exit code 2', async () => {
    const missing = await run(['personalize', '--prompt', 'hi']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--history FILE is required');
    const budget = await run([
      'personalize',
      '--history',
      sampleHistory,
      '--prompt',
      'x',
      '--budget',
      'lots',
    ]);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toContain('--budget must be a whole number');
    const unknown = await run(['personalise']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });

  it('loads a trained artifact with --trained and names a missing one', async () => {
    const missing = await run([
      'personalize',
      '--history',
      sampleHistory,
      '--prompt',
      'x',
      '--encoder',
      'hashing',
      '--trained',
      '/nonexistent/artifact.json',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/nonexistent/artifact.json');
  });

  it('names the bad item and line of a broken history file', async () => {
    const folder = await temporaryFolder('userplug-cli-');
    const badItem = join(folder, 'bad-item.jsonl');
    await writeFile(badItem, '{"id":"a","text":"fine"}\n{"id":"b","rating":5}\n');
    const itemResult = await run([
      'personalize',
      '--history',
      badItem,
      '--prompt',
      'x',
      '--encoder',
      'hashing',
    ]);
    expect(itemResult.code).toBe(1);
    expect(itemResult.stderr).toContain('History item 1 (id "b")');
    const badJson = join(folder, 'bad.jsonl');
    await writeFile(badJson, '{"id":"a","text":"fine"}\n{oops\n');
    const jsonResult = await run([
      'personalize',
      '--history',
      badJson,
      '--prompt',
      'x',
      '--encoder',
      'hashing',
    ]);
    expect(jsonResult.code).toBe(1);
    expect(jsonResult.stderr).toContain('line 2: not valid JSON');
    const absent = await run(['personalize', '--history', join(folder, 'nope.json'), '--prompt', 'x']);
    expect(absent.stderr).toContain('does not exist');
  });
});
