import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError, InvalidArgumentError } from '@userplug/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyStore } from './create-key-store.js';

const folders: string[] = [];
async function newFolder() {
  const folder = await mkdtemp(join(tmpdir(), 'userplug-keys-'));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('createKeyStore', () => {
  it('keeps only a scrypt hash, in a file of mode 0600, and verifies, lists and revokes keys', async () => {
    const folder = await newFolder();
    const path = join(folder, '.userplug', 'keys.json');
    const keys = createKeyStore({ path, scryptCost: 1024, now: () => Date.UTC(2026, 0, 2) });
    const { key, record } = await keys.createKey({ tenant: 'acme' });
    expect(key).toMatch(/^upk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key).toContain(record.id);
    expect(record).toEqual({ id: record.id, tenant: 'acme', createdAt: '2026-01-02T00:00:00.000Z' });

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(folder, '.userplug'))).mode & 0o777).toBe(0o700);
    const file = await readFile(path, 'utf8');
    expect(file).not.toContain(key.split('_').slice(2).join('_'));
    expect(JSON.parse(file).keys[0].hash).toMatch(/^scrypt\$1024\$8\$1\$/);

    expect(await keys.verifyKey(key)).toEqual({ status: 'valid', keyId: record.id, tenant: 'acme' });
    expect(await keys.verifyKey(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toEqual({
      status: 'invalid',
    });
    expect(await keys.verifyKey('upk_0000000000000000_' + 'A'.repeat(43))).toEqual({ status: 'invalid' });
    expect(await keys.verifyKey('not a key')).toEqual({ status: 'invalid' });

    const second = await keys.createKey({ tenant: 'globex' });
    expect((await keys.listKeys()).map((entry) => entry.tenant)).toEqual(['acme', 'globex']);
    const revoked = await keys.revokeKey(record.id);
    expect(revoked.revokedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(await keys.verifyKey(key)).toEqual({ status: 'revoked', keyId: record.id });
    expect((await keys.verifyKey(second.key)).status).toBe('valid');
    await expect(keys.revokeKey('ffffffffffffffff')).rejects.toThrow(/No key with id "ffffffffffffffff"/);
    await expect(keys.createKey({ tenant: '../other' })).rejects.toSatisfy(InvalidArgumentError.isInstance);
  });

  it('loses no key when two processes create keys in one file at once, and clears a stale lock', async () => {
    const path = join(await newFolder(), 'keys.json');
    // Two stores on one file stand for two `userplug keys create` processes: only the lock file orders them.
    const first = createKeyStore({ path, scryptCost: 1024 });
    const second = createKeyStore({ path, scryptCost: 1024 });
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        (index % 2 ? first : second).createKey({ tenant: `t${index}` }),
      ),
    );
    const listed = await createKeyStore({ path }).listKeys();
    expect(listed.map((record) => record.id).sort()).toEqual(created.map(({ record }) => record.id).sort());
    for (const { key } of created) expect((await first.verifyKey(key)).status).toBe('valid');
    await expect(stat(`${path}.lock`)).rejects.toThrow();

    // A process killed while holding the lock leaves it behind: after a minute it no longer blocks.
    await writeFile(`${path}.lock`, '12345');
    const minutesAgo = new Date(Date.now() - 5 * 60_000);
    await utimes(`${path}.lock`, minutesAgo, minutesAgo);
    await first.createKey({ tenant: 'late' });
    expect((await first.listKeys()).length).toBe(13);
  });

  it('sees keys created and revoked by another process once the reload interval has passed', async () => {
    const path = join(await newFolder(), 'keys.json');
    let clock = 0;
    const server = createKeyStore({ path, scryptCost: 1024, now: () => clock, reloadIntervalMs: 1000 });
    const admin = createKeyStore({ path, scryptCost: 1024 });
    const { key, record } = await admin.createKey({ tenant: 'acme' });
    expect((await server.verifyKey(key)).status).toBe('valid');
    await admin.revokeKey(record.id);
    // Within the interval the server still uses what it read; after it, the revocation holds.
    clock += 500;
    expect((await server.verifyKey(key)).status).toBe('valid');
    clock += 600;
    expect((await server.verifyKey(key)).status).toBe('revoked');
  });

  it('refuses a damaged keys file with the fix, and keeps memory-only keys out of any file', async () => {
    const path = join(await newFolder(), 'keys.json');
    await writeFile(path, '{"version": 1, "keys": [{"id": "nope"}]}');
    const keys = createKeyStore({ path, scryptCost: 1024 });
    await expect(keys.listKeys()).rejects.toSatisfy(FileFormatError.isInstance);
    await expect(keys.verifyKey(`upk_${'a'.repeat(16)}_${'A'.repeat(43)}`)).rejects.toThrow(
      /is not a userplug keys file: keys\.0\.id/,
    );
    const memory = createKeyStore({ scryptCost: 1024 });
    const { key } = await memory.createKey({ tenant: 'acme' });
    expect(memory.path).toBeUndefined();
    expect((await memory.verifyKey(key)).status).toBe('valid');
  });
});
