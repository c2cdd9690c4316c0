import { StoreError } from '@userplug/core';

/** Where the store connects, without the password, for messages. */
export function describeServer(connectionString: string | undefined): string {
  if (connectionString === undefined) return 'the PostgreSQL server of the given pool';
  try {
    const url = new URL(connectionString);
    return `PostgreSQL at ${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
  } catch {
    return 'the PostgreSQL server of the connection string';
  }
}

/** Turns an error of `pg` (or of the network) into a `StoreError` that says what failed and what to do. */
export function toPostgresStoreError(
  error: unknown,
  details: { server: string; schema: string; action: string; userId?: string },
): StoreError {
  if (StoreError.isInstance(error)) return error;
  const { server, schema, action, userId } = details;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const reason = error instanceof Error ? error.message : String(error);
  const who = userId === undefined ? '' : ` for user "${userId}"`;
  const userDetails = userId === undefined ? {} : { userId };
  const options = { cause: error };
  const say = (message: string) => new StoreError(message, userDetails, options);
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '57P01', '57P03'].includes(code)
  ) {
    return say(
      `Cannot reach ${server} (${code}: ${reason}) to ${action}${who}. Start the server, or set DATABASE_URL / connectionString to a running one; nothing of this call was stored.`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return say(
      `${server} refused the login (${code}: ${reason}). Check the user and password in DATABASE_URL / connectionString.`,
    );
  }
  if (code === '3D000') {
    return say(
      `${server}: the database does not exist (${reason}). Create it (createdb NAME) or fix DATABASE_URL / connectionString.`,
    );
  }
  if (code === '42501') {
    return say(
      `${server}: permission denied to ${action} in schema "${schema}" (${reason}). Grant the role CREATE and USAGE on the schema, ` +
        'or let an administrator create the schema once with `migrate: true`.',
    );
  }
  if (code === '42P01' || code === '3F000') {
    return say(
      `${server}: the userplug tables in schema "${schema}" are missing (${reason}). Open the store once with \`migrate: true\` (the default) to create them.`,
    );
  }
  if (code === '22021' || code === '22P05') {
    return say(
      `${server} cannot store a text of this call${who} (${code}: ${reason}): PostgreSQL text cannot hold NUL (U+0000) characters. Remove them from the ids.`,
    );
  }
  if (code === '53100' || code === '53200') {
    return say(
      `${server} is out of disk or memory (${code}: ${reason}) while trying to ${action}${who}. Free some and retry; nothing of this call was stored.`,
    );
  }
  return say(`${server} failed to ${action}${who} in schema "${schema}" (${code || 'error'}: ${reason}).`);
}
