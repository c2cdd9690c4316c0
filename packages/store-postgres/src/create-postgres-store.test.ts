import { randomBytes } from 'node:crypto';
import { describeStoreConformance } from '@userplug/store-kit/testing';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { testDatabase } from '../../../test/support/postgres-cluster.js';
import { createPostgresStore, type PostgresStore } from './create-postgres-store.js';

const database = testDatabase();
const url = database.url;
const admin = url ? new pg.Pool({ connectionString: url, max: 2 }) : undefined;
afterAll(async () => {
  await admin?.end();
  database.stop();
});

// A fresh schema per store, dropped when the store closes.
async function openFresh(settings: { quantization?: 'int8'; partitions?: number } = {}) {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store = createPostgresStore({
    connectionString: url!,
    schema,
    partitions: settings.partitions ?? 4,
    ...settings,
  });
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await close();
      await admin!.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  });
}

// Another pool on the same schema, as another app instance would open it.
const openAnother = async (store: PostgresStore) =>
  createPostgresStore({ connectionString: url!, schema: store.schema });

describe.skipIf(!url)('createPostgresStore (float32)', () => {
  describeStoreConformance({ open: () => openFresh(), openAnother, nulInIds: false, propertyRuns: 15 });
});

describe.skipIf(!url)('createPostgresStore (int8, plain tables)', () => {
  describeStoreConformance({
    open: () => openFresh({ quantization: 'int8', partitions: 0 }),
    openAnother,
    vectorTolerance: 0.02,
    propertyRuns: 8,
    nulInIds: false,
  });
});

if (!url) {
  describe('createPostgresStore', () => {
    it.skip(`skipped: ${database.reason}`, () => {});
  });
}
