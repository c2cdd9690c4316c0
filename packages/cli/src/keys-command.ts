import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';

export const keysUsage = `Usage: userplug keys create --tenant NAME [--keys FILE]
       userplug keys list [--keys FILE] [--json]
       userplug keys revoke KEYID [--keys FILE]

Manages the API keys of \`userplug serve\`. A key reads and writes the users of its tenant only.
\`create\` prints the new key once, alone on standard output (messages go to standard error); the keys
file keeps only its scrypt hash, with mode 0600. A running server sees new and revoked keys within a second.

Options:
  --tenant NAME        The tenant of the new key: 1 to 64 letters, digits, ".", "_" or "-".
  --keys FILE          The keys file. Default: $USERPLUG_KEYS, else .userplug/keys.json.
  --json               list: print the keys as JSON.
  -h, --help           Show this help.
`;

/** The keys file: `--keys`, else `USERPLUG_KEYS`, else `.userplug/keys.json` in the working directory. */
export function resolveKeysPath(option: string | undefined): string {
  return resolve(option ?? process.env.USERPLUG_KEYS ?? '.userplug/keys.json');
}

/** `userplug keys`. */
export async function keysCommand(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      keys: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [action, ...rest] = positionals;
  const path = resolveKeysPath(values.keys);
  // The key store alone: no HTTP framework is loaded for key management.
  const { createKeyStore } = await import('@userplug/server/keys');
  const keys = createKeyStore({ path });
  if (action === 'create') {
    if (values.tenant === undefined) throw new UsageError('keys create needs --tenant NAME.');
    if (rest.length > 0)
      throw new UsageError(`keys create takes no other arguments, got "${rest.join(' ')}".`);
    const { key, record } = await keys.createKey({ tenant: values.tenant });
    io.stdout.write(`${key}\n`);
    io.stderr.write(
      `Created key ${record.id} for tenant "${record.tenant}" in ${path}. It is shown this once: keep it secret.\n`,
    );
    return;
  }
  if (action === 'list') {
    const records = await keys.listKeys();
    if (values.json) {
      io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      return;
    }
    if (records.length === 0) {
      io.stderr.write(`No keys in ${path}. Create one with \`userplug keys create --tenant NAME\`.\n`);
      return;
    }
    io.stdout.write(`${'id'.padEnd(18)}${'tenant'.padEnd(20)}${'created'.padEnd(26)}status\n`);
    for (const record of records) {
      io.stdout.write(
        `${record.id.padEnd(18)}${record.tenant.padEnd(20)}${record.createdAt.padEnd(26)}${record.revokedAt === undefined ? 'active' : `revoked ${record.revokedAt}`}\n`,
      );
    }
    return;
  }
  if (action === 'revoke') {
    if (rest.length !== 1) throw new UsageError('keys revoke needs one KEYID (see `userplug keys list`).');
    const record = await keys.revokeKey(rest[0]!);
    io.stdout.write(
      `Revoked key ${record.id} of tenant "${record.tenant}" (${record.revokedAt}). Requests with it now get 401.\n`,
    );
    return;
  }
  throw new UsageError(
    action === undefined
      ? 'Name an action: create, list or revoke.'
      : `Unknown action "${action}": use create, list or revoke.`,
  );
}
