import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '@userplug/store-sqlite';
import { describe, expect, it } from 'vitest';
import { runCliInMemory as run, temporaryFolder } from '../test-support/run-cli-in-memory.js';

const sampleHistory = fileURLToPath(new URL('../../../examples/sample-history.jsonl', import.meta.url));

describe('userplug ingest, personalize from the store, forget', () => {
  it('ingests incrementally, personalizes without --history, and forgets with a verified report', async () => {
    const folder = await temporaryFolder('userplug-cli-store-');
    const store = join(folder, 'nested', 'userplug.db');
    const first = await run([
      'ingest',
      '--user',
      'maya',
      '--store',
      store,
      '--encoder',
      'hashing',
      sampleHistory,
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/40 items read, 40 new, 0 updated, 0 unchanged; 40 texts embedded/);
    expect(first.stdout).toContain(`User "maya" has 40 items in ${store}.`);

    const extra = join(folder, 'more.json');
    await writeFile(
      extra,
      JSON.stringify([
        { id: 'post-01', text: 'Changed my mind: road cycling this year.' },
        { id: 'new-1', text: 'Bought a road bike helmet' },
      ]),
    );
    const second = await run(['ingest', '--user', 'maya', '--store', store, '--json', sampleHistory, extra]);
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout);
    // The stored items' encoder (hashing) is picked without --encoder.
    expect(report.files[0]).toMatchObject({ received: 40, inserted: 0, unchanged: 40, embeddedTexts: 0 });
    expect(report.files[1]).toMatchObject({ received: 2, inserted: 1, updated: 1 });
    expect(report.items).toBe(41);

    const personalized = await run([
      'personalize',
      '--user',
      'maya',
      '--store',
      store,
      '--prompt',
      'Which bike gear should I buy?',
      '--json',
    ]);
    expect(personalized.stderr).toBe('');
    expect(personalized.code).toBe(0);
    const output = JSON.parse(personalized.stdout);
    expect(output.usage.historyItems).toBe(41);
    expect(
      output.persona.attributions.map((attribution: { itemId: string }) => attribution.itemId),
    ).toContain('new-1');

    const other = await run(['ingest', '--user', 'sam', '--store', store, '--encoder', 'hashing', extra]);
    expect(other.code).toBe(0);
    const forgotten = await run(['forget', '--user', 'maya', '--store', store]);
    expect(forgotten.code).toBe(0);
    expect(forgotten.stdout).toMatch(
      /Forgot user "maya" in .*: 41 items, 41 vector rows, 0 cached values, 0 state entries erased\. Verified: nothing of this user is left\./,
    );
    const again = await run(['forget', '--user', 'maya', '--store', store, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ userId: 'maya', itemsDeleted: 0, verified: true });

    const afterForget = await run(['personalize', '--user', 'maya', '--store', store, '--prompt', 'x']);
    expect(afterForget.code).toBe(2);
    expect(afterForget.stderr).toContain('user "maya" has no items in');
    expect(afterForget.stderr).toContain('userplug ingest --user maya FILE');
    const check = createSqliteStore({ path: store, mustExist: true });
    expect(await check.countItems('sam')).toBe(2);
    expect(await check.listUserIds()).toEqual(['sam']);
    await check.close();
  });

  it('reads USERPLUG_STORE, ingests with --history into a requested store, and refuses a mismatched --encoder', async () => {
    const folder = await temporaryFolder('userplug-cli-store-');
    const store = join(folder, 'env.db');
    const saved = process.env.USERPLUG_STORE;
    process.env.USERPLUG_STORE = store;
    try {
      const withHistory = await run([
        'personalize',
        '--user',
        'lee',
        '--history',
        sampleHistory,
        '--prompt',
        'dinner ideas',
        '--encoder',
        'hashing',
        '--json',
      ]);
      expect(withHistory.code).toBe(0);
      const fromStore = await run(['personalize', '--user', 'lee', '--prompt', 'dinner ideas', '--json']);
      expect(fromStore.code).toBe(0);
      expect(JSON.parse(fromStore.stdout).prompt).toBe(JSON.parse(withHistory.stdout).prompt);
      const mismatch = await run(['personalize', '--user', 'lee', '--prompt', 'x', '--encoder', 'use']);
      expect(mismatch.code).toBe(2);
      expect(mismatch.stderr).toMatch(
        /ingested into .* with encoder "hashing-256", not "use"\. Pass --encoder hashing/,
      );
    } finally {
      if (saved === undefined) delete process.env.USERPLUG_STORE;
      else process.env.USERPLUG_STORE = saved;
    }
  });

  it('explains missing stores, users and options', async () => {
    const folder = await temporaryFolder('userplug-cli-store-');
    const missing = join(folder, 'missing.db');
    const noStore = await run(['personalize', '--user', 'x', '--store', missing, '--prompt', 'hi']);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain(`--history FILE is required: there is no userplug store at ${missing}`);
    const forgetMissing = await run(['forget', '--user', 'x', '--store', missing]);
    expect(forgetMissing.code).toBe(1);
    expect(forgetMissing.stderr).toContain('No userplug store at');
    expect((await run(['forget', '--store', missing])).stderr).toContain('--user ID is required');
    expect((await run(['ingest', '--user', 'x', '--store', missing])).stderr).toContain(
      'Name at least one history FILE',
    );
    const corrupt = join(folder, 'corrupt.db');
    await writeFile(corrupt, 'not a database at all\n'.repeat(100));
    const damaged = await run([
      'ingest',
      '--user',
      'x',
      '--store',
      corrupt,
      '--encoder',
      'hashing',
      sampleHistory,
    ]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/damaged or is not a database.*Restore the file from a backup/);
    const help = await run(['--help']);
    expect(help.stdout).toMatch(/ingest .*\n.*forget /s);
  });
});
