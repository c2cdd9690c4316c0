import { StoreError } from '@userplug/core';

function sqliteCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Turns an error of better-sqlite3 into a `StoreError` that says what failed and what to do. */
export function toSqliteStoreError(
  error: unknown,
  details: { path: string; action: string; userId?: string; busyTimeoutMs: number },
): StoreError {
  if (StoreError.isInstance(error)) return error;
  const { path, action, userId } = details;
  const code = sqliteCode(error) ?? '';
  const reason = error instanceof Error ? error.message : String(error);
  const who = userId === undefined ? '' : ` for user "${userId}"`;
  const options = { cause: error };
  const userDetails = userId === undefined ? {} : { userId };
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      `The SQLite store ${path} is damaged or is not a database (${code}: ${reason}) while trying to ${action}${who}. ` +
        'Restore the file from a backup, or move it away and ingest the histories again; ' +
        '`store.checkIntegrity()` (PRAGMA integrity_check) lists the damage.',
      userDetails,
      options,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      `Another connection held the SQLite store ${path} locked for more than ${details.busyTimeoutMs} ms while trying to ${action}${who} (${code}). ` +
        'Retry, or raise `busyTimeoutMs`; for many concurrent writers use @userplug/store-postgres.',
      userDetails,
      options,
    );
  }
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM')
  ) {
    return new StoreError(
      `Cannot write the SQLite store ${path} (${code}: ${reason}) while trying to ${action}${who}. ` +
        'Check that the file and its folder exist and are writable by this process (it also writes PATH-wal and PATH-shm next to it).',
      userDetails,
      options,
    );
  }
  if (code.startsWith('SQLITE_FULL')) {
    return new StoreError(
      `The disk holding the SQLite store ${path} is full (${code}) while trying to ${action}${who}. Free some space and retry; nothing of this call was stored.`,
      userDetails,
      options,
    );
  }
  return new StoreError(
    `SQLite failed to ${action}${who} in ${path} (${code || 'error'}: ${reason}).`,
    userDetails,
    options,
  );
}
