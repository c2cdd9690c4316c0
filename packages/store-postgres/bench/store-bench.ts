import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { benchStore, type StoreBenchResult, type StoreBenchSettings } from '@userplug/store-kit/testing';
import { createPostgresStore, type VectorQuantization } from '@userplug/store-postgres';
import pg from 'pg';

/**
 * {@link benchStore} on PostgreSQL: a new schema (dropped afterwards) on the server at `connectionString`
 * (default `USERPLUG_TEST_DATABASE_URL`, else `DATABASE_URL`). Uses the hashing encoder: measures the store.
 */
export async function benchPostgresStore(
  settings: StoreBenchSettings & {
    connectionString?: string;
    quantization?: VectorQuantization;
    partitions?: number;
  } = {},
): Promise<StoreBenchResult> {
  const connectionString =
    settings.connectionString ?? process.env.USERPLUG_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!connectionString) {
    throw new Error(
      'benchPostgresStore needs a server: pass connectionString or set USERPLUG_TEST_DATABASE_URL / DATABASE_URL.',
    );
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const quantization = settings.quantization ?? 'float32';
  try {
    return await benchStore(
      `postgres (${quantization}, ${settings.partitions ?? 16} partitions)`,
      async () =>
        createPostgresStore({
          connectionString,
          schema,
          quantization,
          ...(settings.partitions === undefined ? {} : { partitions: settings.partitions }),
        }),
      settings,
    );
  } finally {
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchPostgresStore({ items: Number(process.argv[2] ?? 1_000) })));
}
