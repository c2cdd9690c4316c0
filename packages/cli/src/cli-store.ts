import { resolve } from 'node:path';
import { UsageError } from '@userplug/cli-kit';
import { createHashingEncoder, type Encoder } from '@userplug/core';
import type { SqliteStore } from '@userplug/store-sqlite';

/** Help text of the `--store` option, shared by the commands that read or write the store. */
export const storeOptionHelp =
  '  --store PATH         SQLite store file. Default: $USERPLUG_STORE, else .userplug/userplug.db.';

/** The store file: `--store`, else `USERPLUG_STORE`, else `.userplug/userplug.db` in the working directory. */
export function resolveStorePath(option: string | undefined): string {
  return resolve(option ?? process.env.USERPLUG_STORE ?? '.userplug/userplug.db');
}

/** Opens the SQLite store; loaded on demand, so `personalize --history` alone never loads the native module. */
export async function openCliStore(path: string, options: { mustExist: boolean }): Promise<SqliteStore> {
  const { createSqliteStore } = await import('@userplug/store-sqlite');
  return createSqliteStore({ path, mustExist: options.mustExist });
}

/**
 * The encoder for a user: the one named by `--encoder`, else the one the user's stored items came from.
 * Returns undefined for the embedded default encoder. Refuses a name that does not match the stored items.
 */
export function chooseEncoder(
  name: string | undefined,
  stored: { userId: string; encoderId: string; dimension: number; path: string } | undefined,
): Encoder | undefined {
  if (name !== undefined && name !== 'use' && name !== 'hashing') {
    throw new UsageError(`--encoder must be "use" or "hashing", got "${name}".`);
  }
  const storedHashing = stored?.encoderId.startsWith('hashing-') ?? false;
  if (stored && name !== undefined && (name === 'hashing') !== storedHashing) {
    throw new UsageError(
      `User "${stored.userId}" was ingested into ${stored.path} with encoder "${stored.encoderId}", not "${name}". ` +
        `Pass --encoder ${storedHashing ? 'hashing' : 'use'} (or leave --encoder out), or erase the user with ` +
        `\`userplug forget --user ${stored.userId}\` and ingest again with --encoder ${name}.`,
    );
  }
  if (storedHashing) return createHashingEncoder({ dim: stored!.dimension });
  return (name ?? 'use') === 'hashing' ? createHashingEncoder() : undefined;
}
