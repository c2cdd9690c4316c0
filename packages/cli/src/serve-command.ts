import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { InvalidArgumentError, type UserplugStore } from '@userplug/core';
import { chooseEncoder, openCliStore, resolveStorePath } from './cli-store.js';
import { resolveKeysPath } from './keys-command.js';
import { chooseTokenizer, parseBudget } from './personalize-command.js';

export const serveUsage = `Usage: userplug serve [--host 127.0.0.1] [--port 8787] [--store PATH | postgres://…] [--keys FILE] [options]

Runs the userplug HTTP service: ingest, list, personalize and forget under /v1 (each request needs
\`Authorization: Bearer KEY\`, see \`userplug keys\`), /healthz, /readyz, /metrics, /openapi.json and the
/inspect page. Logs one JSON line per request on standard output. SIGTERM or SIGINT drains: requests in
flight finish, new ones get 503, then the process exits.

Options:
  --host HOST          Address to listen on. Default: 127.0.0.1.
  --port N             Port; 0 picks a free one. Default: 8787.
  --store PATH|URL     SQLite store file, or a postgres:// (postgresql://) URL for PostgreSQL.
                       Default: $USERPLUG_STORE, else .userplug/userplug.db.
  --keys FILE          The keys file. Default: $USERPLUG_KEYS, else .userplug/keys.json.
  --encoder NAME       use (embedded Universal Sentence Encoder lite) or hashing (lexical, no model).
                       Default: use.
  --budget N           Persona token budget when a request gives none. Default: 300.
  --tokenizer NAME     o200k_base or cl100k_base. Default: o200k_base.
  --rate-limit N       Requests per second per key, in bursts of 2N; 0 for no limit. Default: 50.
  -h, --help           Show this help.
`;

function parseWholeNumber(option: string, value: string, maximum: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > maximum) {
    throw new UsageError(`${option} must be a whole number from 0 to ${maximum}, got "${value}".`);
  }
  return number;
}

async function openStore(
  location: string | undefined,
): Promise<{ store: UserplugStore; description: string }> {
  if (location !== undefined && /^postgres(ql)?:\/\//i.test(location)) {
    const { createPostgresStore } = await import('@userplug/store-postgres');
    const url = new URL(location);
    return {
      store: createPostgresStore({ connectionString: location }),
      description: `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}`,
    };
  }
  const path = resolveStorePath(location);
  return { store: await openCliStore(path, { mustExist: false }), description: `SQLite ${path}` };
}

/** `userplug serve`: runs until SIGTERM or SIGINT, then drains. */
export async function serveCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8787' },
      store: { type: 'string' },
      keys: { type: 'string' },
      encoder: { type: 'string' },
      budget: { type: 'string' },
      tokenizer: { type: 'string', default: 'o200k_base' },
      'rate-limit': { type: 'string', default: '50' },
    },
  });
  const port = parseWholeNumber('--port', values.port, 65_535);
  const rate = parseWholeNumber('--rate-limit', values['rate-limit'], 1_000_000);
  const budget = parseBudget(values.budget);
  const tokenCounter = chooseTokenizer(values.tokenizer);
  const encoder = chooseEncoder(values.encoder, undefined);
  const keysPath = resolveKeysPath(values.keys);
  // Only serve loads the HTTP framework.
  const { createKeyStore, createUserplugServer } = await import('@userplug/server');
  const keys = createKeyStore({ path: keysPath });
  await keys.listKeys();
  if (!existsSync(keysPath)) {
    io.stderr.write(
      `userplug serve: no keys file at ${keysPath} yet: every /v1 request gets 401 until you run \`userplug keys create --tenant NAME --keys ${keysPath}\` (no restart needed).\n`,
    );
  }
  const { store, description } = await openStore(values.store ?? process.env.USERPLUG_STORE);
  const server = createUserplugServer({
    store,
    keys,
    ...(encoder ? { encoder } : {}),
    personalizer: { tokenCounter, ...(budget === undefined ? {} : { budget }) },
    rateLimit: rate === 0 ? false : { requestsPerSecond: rate },
    log: { destination: process.stdout },
  });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    const url = await server.listen({ host: values.host, port }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') throw error;
      throw new InvalidArgumentError(
        'port',
        `Cannot listen on ${values.host}:${port} (${error.code}). Pass another --port (0 picks a free one) or --host.`,
        { cause: error },
      );
    });
    io.stderr.write(`userplug serve: listening on ${url} (store: ${description}; keys: ${keysPath}).\n`);
    server.ready().then(
      () => io.stderr.write('userplug serve: ready (encoder loaded).\n'),
      (error: Error) => io.stderr.write(`userplug serve: the encoder failed to load: ${error.message}\n`),
    );
    const signal = await stopped;
    io.stderr.write(`userplug serve: ${signal}: draining (requests in flight finish, new ones get 503)…\n`);
  } finally {
    await server.close();
    await store.close();
    if (encoder) await encoder.dispose();
  }
  io.stderr.write('userplug serve: stopped.\n');
}
