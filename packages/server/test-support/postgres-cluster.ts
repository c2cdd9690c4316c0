// A throwaway PostgreSQL cluster that a test can stop and start again (store-postgres's start script makes it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scripts = fileURLToPath(new URL('../../store-postgres/scripts/', import.meta.url));

/** A cluster of this test file's own, or why there is none (the tests skip). */
export type PostgresCluster =
  | { url: string; stopServer(): void; startServer(): void; remove(): void }
  | { url: undefined; reason: string };

/** Starts a cluster on 127.0.0.1 when PostgreSQL's server binaries are installed (never installs them). */
export function startPostgresCluster(): PostgresCluster {
  if (process.env.USERPLUG_TEST_NO_POSTGRES === '1')
    return { url: undefined, reason: 'USERPLUG_TEST_NO_POSTGRES=1' };
  if (!existsSync('/usr/lib/postgresql')) {
    return { url: undefined, reason: "no PostgreSQL server binaries (Debian's postgresql package)" };
  }
  let output: string;
  try {
    output = execFileSync('bash', [`${scripts}start-test-postgres.sh`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return { url: undefined, reason: `start-test-postgres.sh failed: ${(error as Error).message}` };
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
