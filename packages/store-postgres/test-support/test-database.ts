// Where the PostgreSQL tests connect: USERPLUG_TEST_DATABASE_URL, else a throwaway cluster started here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scripts = fileURLToPath(new URL('../scripts/', import.meta.url));

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
 * Uses `USERPLUG_TEST_DATABASE_URL` (set by `.ci/run` through scripts/start-test-postgres.sh) when present.
 * Otherwise starts a throwaway cluster with the same script when PostgreSQL's server binaries are installed,
 * and gives up (tests skip) only when they are not.
 */
export function testDatabase(): TestDatabase {
  const database = findTestDatabase();
  // Said once per file, so a skipped run is never mistaken for a passing one.
  if (!database.url) console.warn(`@userplug/store-postgres tests skipped: ${database.reason}`);
  return database;
}

function findTestDatabase(): TestDatabase {
  const given = process.env.USERPLUG_TEST_DATABASE_URL;
  if (given) return { url: given, reason: '', stop() {} };
  if (process.env.USERPLUG_TEST_NO_POSTGRES === '1') {
    return { url: undefined, reason: 'USERPLUG_TEST_NO_POSTGRES=1', stop() {} };
  }
  const hasServer =
    existsSync('/usr/lib/postgresql') ||
    (() => {
      try {
        execFileSync('sh', ['-c', 'command -v initdb'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
  if (!hasServer) {
    return {
      url: undefined,
      reason:
        "no PostgreSQL server: install Debian's postgresql package, or set USERPLUG_TEST_DATABASE_URL (see packages/store-postgres/README.md)",
      stop() {},
    };
  }
  let output: string;
  try {
    // Never installs anything from a test run: without the binaries the script is not called.
    output = execFileSync('bash', [`${scripts}start-test-postgres.sh`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return {
      url: undefined,
      reason: `starting a throwaway PostgreSQL failed: ${(error as Error).message}`,
      stop() {},
    };
  }
  const url = /USERPLUG_TEST_DATABASE_URL='([^']+)'/.exec(output)?.[1];
  const folder = /USERPLUG_TEST_PGDATA='([^']+)'/.exec(output)?.[1];
  let stopped = false;
  const stop = () => {
    if (stopped || !folder) return;
    stopped = true;
    execFileSync('bash', [`${scripts}stop-test-postgres.sh`, folder], { stdio: 'ignore' });
  };
  // Also when the test process ends without running afterAll (a crash, a timeout).
  process.once('exit', stop);
  return { url, reason: url ? '' : `start-test-postgres.sh printed no address: ${output}`, stop };
}
