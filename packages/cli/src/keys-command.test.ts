import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInMemory, temporaryFolder } from '../test-support/run-cli-in-memory.js';

describe('userplug keys', () => {
  it('creates a key (printed alone, once), lists and revokes it; the file holds only hashes, mode 0600', async () => {
    const folder = await temporaryFolder('userplug-cli-keys-');
    const keys = join(folder, 'state', 'keys.json');
    const created = await runCliInMemory(['keys', 'create', '--tenant', 'acme', '--keys', keys]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^upk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    const key = created.stdout.trim();
    const keyId = key.split('_')[1]!;
    expect(created.stderr).toContain(`Created key ${keyId} for tenant "acme" in ${keys}`);
    expect((await stat(keys)).mode & 0o777).toBe(0o600);
    const file = await readFile(keys, 'utf8');
    expect(file).toContain(keyId);
    expect(file).not.toContain(key.slice(21));

    await runCliInMemory(['keys', 'create', '--tenant', 'globex', '--keys', keys]);
    const listed = await runCliInMemory(['keys', 'list', '--keys', keys]);
    expect(listed.stdout).toMatch(new RegExp(`${keyId}\\s+acme\\s+\\S+\\s+active`));
    expect(listed.stdout).toMatch(/globex/);
    expect(listed.stdout).not.toContain(key);

    const revoked = await runCliInMemory(['keys', 'revoke', keyId, '--keys', keys]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked key ${keyId} of tenant "acme"`);
    const json = JSON.parse((await runCliInMemory(['keys', 'list', '--keys', keys, '--json'])).stdout);
    expect(
      json.map((record: { tenant: string; revokedAt?: string }) => [
        record.tenant,
        record.revokedAt !== undefined,
      ]),
    ).toEqual([
      ['acme', true],
      ['globex', false],
    ]);
  });

  it('says what is wrong: usage mistakes exit 2, failed operations 1', async () => {
    const folder = await temporaryFolder('userplug-cli-keys-');
    const keys = join(folder, 'keys.json');
    const noTenant = await runCliInMemory(['keys', 'create', '--keys', keys]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('--tenant NAME');
    const badTenant = await runCliInMemory(['keys', 'create', '--tenant', 'a/b', '--keys', keys]);
    expect(badTenant.code).toBe(1);
    expect(badTenant.stderr).toContain('Tenant name "a/b" is not valid');
    const unknown = await runCliInMemory(['keys', 'revoke', '0123456789abcdef', '--keys', keys]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No key with id "0123456789abcdef"');
    expect((await runCliInMemory(['keys', 'rotate', '--keys', keys])).code).toBe(2);
    expect((await runCliInMemory(['keys', 'list', '--keys', keys])).stderr).toContain('No keys in');
  });
});
