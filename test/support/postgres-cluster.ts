// Throwaway PostgreSQL clusters for the tests that need a server (store-postgres, the server package), started
// with packages/store-postgres/scripts/start-test-postgres.sh on 127.0.0.1. Never installs anything.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scripts = fileURLToPath(new URL('../../packages/store-postgres/scripts/', import.meta.url));

/** A cluster of the calling test file's own, or why there is none (the tests skip). */
export type PostgresCluster =
  | {
      url: string;
      /** Stops the server, keeping its data (to test an outage). */
      stopServer(): void;
      /** Starts the stopped server again on the same port. */
      startServer(): void;
      /** Stops the server and deletes its folder (also done when the process exits). */
      remove(): void;
    }
  | { url: undefined; reason: string };

function hasServerBinaries(): boolean {
  if (existsSync('/usr/lib/postgresql')) return true;
  try {
    execFileSync('sh', ['-c', 'command -v initdb'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts a cluster on 127.0.0.1 when PostgreSQL's server binaries are installed. */
export function startPostgresCluster(): PostgresCluster {
  if (process.env.USERPLUG_TEST_NO_POSTGRES === '1')
    return { url: undefined, reason: 'USERPLUG_TEST_NO_POSTGRES=1' };
  if (!hasServerBinaries()) {
    return {
      url: undefined,
      reason:
        "no PostgreSQL server: install Debian's postgresql package, or set USERPLUG_TEST_DATABASE_URL (see packages/store-postgres/README.md)",
    };
  }
  let output: string;
  try {
    output = execFileSync('bash', [`${scripts}start-test-postgres.sh`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return { url: undefined, reason: `starting a throwaway PostgreSQL failed: ${(error as Error).message}` };
  }
  const url = /USERPLUG_TEST_DATABASE_URL='([^']+)'/.exec(output)?.[1];
  const folder = /USERPLUG_TEST_PGDATA='([^']+)'/.exec(output)?.[1];
  if (!url || !folder)
    return { url: undefined, reason: `start-test-postgres.sh printed no address: ${output}` };
  const port = new URL(url).port;
  // pg_ctl as the owner of the data folder (the postgres system user when the tests run as root).
  const pgCtl = (...args: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        'bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); owner=$(stat -c %U "$0/data"); ' +
          'if [ "$(id -u)" -eq 0 ]; then runuser -u "$owner" -- "$bin/pg_ctl" -D "$0/data" "$@"; else "$bin/pg_ctl" -D "$0/data" "$@"; fi',
        folder,
        ...args,
      ],
      { stdio: 'ignore' },
    );
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    execFileSync('bash', [`${scripts}stop-test-postgres.sh`, folder], { stdio: 'ignore' });
  };
  // Also when the test process ends without running afterAll (a crash, a timeout).
  process.once('exit', remove);
  return {
    url,
    stopServer: () => pgCtl('-m', 'fast', '-w', 'stop'),
    startServer: () =>
      pgCtl(
        '-w',
        '-t',
        '30',
        '-l',
        `${folder}/server.log`,
        '-o',
        `-c listen_addresses=127.0.0.1 -c unix_socket_directories=${folder} -c max_connections=200 -p ${port}`,
        'start',
      ),
    remove,
  };
}

/** A database for tests, and how to stop it when this file started it. */
export interface TestDatabase {
  /** Connection string, or undefined when no server is available (tests skip). */
  url: string | undefined;
  /** Why there is no server. */
  reason: string;
  /** Stops a cluster started for this test file; nothing for one given by the environment. */
  stop(): void;
}

/**
 * Uses `USERPLUG_TEST_DATABASE_URL` (set by `.ci/run` through start-test-postgres.sh) when present, else a
 * cluster of this file's own; without PostgreSQL's binaries the tests skip, and say so once.
 */
export function testDatabase(): TestDatabase {
  const given = process.env.USERPLUG_TEST_DATABASE_URL;
  if (given) return { url: given, reason: '', stop() {} };
  const cluster = startPostgresCluster();
  if (cluster.url === undefined) {
    // Said once per file, so a skipped run is never mistaken for a passing one.
    console.warn(`PostgreSQL tests skipped: ${cluster.reason}`);
    return { url: undefined, reason: cluster.reason, stop() {} };
  }
  return { url: cluster.url, reason: '', stop: cluster.remove };
}
