import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createHashingEncoder, createPersonalizer, InvalidArgumentError, StoreError } from '@userplug/core';
import {
  checkSchemaOneUpgrade,
  describeStoreResilience,
  makeStoredItem,
  schemaOneItems,
  schemaOneRow,
  syntheticHistory,
} from '@userplug/store-kit/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../../test/support/postgres-cluster.js';
import { createPostgresStore } from './create-postgres-store.js';
import { postgresMigrations } from './postgres-migrations.js';

const database = testDatabase();
const url = database.url;
const admin = url ? new pg.Pool({ connectionString: url, max: 3 }) : undefined;
const schemas: string[] = [];
const freshSchema = () => {
  const schema = `r_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
};
afterAll(async () => {
  for (const schema of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  database.stop();
});

const hashing = () => createHashingEncoder({ dim: 64 });

if (!url) {
  describe('createPostgresStore: resilience', () => {
    it.skip(`skipped: ${database.reason}`, () => {});
  });
}

describe.skipIf(!url)('createPostgresStore: setup and bad input', () => {
  it('creates a hash-partitioned schema, once, even when several instances open it at the same time', async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 4 }, () =>
      createPostgresStore({ connectionString: url!, schema, partitions: 8 }),
    );
    await Promise.all(stores.map((store) => store.migrate()));
    const partitions = await admin!.query(
      `SELECT count(*)::int AS count FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE n.nspname = $1 AND p.relname = 'items'`,
      [schema],
    );
    expect(partitions.rows[0].count).toBe(8);
    const strategy = await admin!.query(
      `SELECT pg_get_partkeydef(c.oid) AS key FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'items'`,
      [schema],
    );
    expect(strategy.rows[0].key).toBe('HASH (user_id)');
    const versions = await admin!.query(`SELECT version FROM ${schema}.schema_version`);
    expect(versions.rows.map((row) => row.version).sort()).toEqual([1, 2]);
    // A personalize reads one partition: the plan of listItems prunes the others.
    const plan = await admin!.query(`EXPLAIN SELECT * FROM ${schema}.items WHERE user_id = 'u1'`);
    const scanned =
      plan.rows
        .map((row) => row['QUERY PLAN'] as string)
        .join('\n')
        .match(/items_p\d+/g) ?? [];
    expect(new Set(scanned).size).toBe(1);
    for (const store of stores) await store.close();
  });

  it('says what to do when the server is unreachable, and needs somewhere to connect', async () => {
    const store = createPostgresStore({
      connectionString: 'postgresql://someone:hunter2@127.0.0.1:1/nothing',
    });
    const failure = await store.listItems('u1').catch((error) => error);
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toMatch(
      /Cannot reach PostgreSQL at 127\.0\.0\.1:1\/nothing \(ECONNREFUSED.*Start the server, or set DATABASE_URL/s,
    );
    expect(failure.message).not.toContain('hunter2');
    await store.close();
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => createPostgresStore()).toThrow(/pass `connectionString` or `pool`, or set DATABASE_URL/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
    expect(() => createPostgresStore({ connectionString: url!, schema: 'Bad-Name' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('upgrades a schema of version 1 in place: rows kept, conversation fields stored from then on', async () => {
    const schema = freshSchema();
    await admin!.query(`CREATE SCHEMA ${schema}`);
    await admin!.query(
      `CREATE TABLE ${schema}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await admin!.query(postgresMigrations(schema, 4)[0]!);
    await admin!.query(`INSERT INTO ${schema}.schema_version (version) VALUES (1)`);
    await admin!.query(
      `INSERT INTO ${schema}.users VALUES ('u1', 'test-8', 8, nextval('${schema}.revisions'))`,
    );
    const written = schemaOneItems();
    for (const [index, item] of written.entries()) {
      const row = schemaOneRow(item);
      const [itemId, ...rest] = row.itemColumns;
      await admin!.query(
        `INSERT INTO ${schema}.items (user_id, item_id, seq, item_hash, text_hash, encoder_id, text, kind, time_ms, rating, label, weight, meta, token_count)
         VALUES ('u1', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [itemId, index + 1, ...rest],
      );
      await admin!.query(`INSERT INTO ${schema}.vectors VALUES ('u1', $1, $2, $3, 0, $4)`, [
        item.encoderId,
        item.textHash,
        row.pieceCount,
        row.vectorData,
      ]);
    }

    const store = createPostgresStore({ connectionString: url!, schema });
    await checkSchemaOneUpgrade(store, 'u1', written);
    await store.close();
    const versions = await admin!.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`);
    expect(versions.rows.map((row) => row.version)).toEqual([1, 2]);
  });

  it('refuses a newer schema version, a foreign schema, and a missing schema without migrate', async () => {
    const newer = freshSchema();
    const store = createPostgresStore({ connectionString: url!, schema: newer });
    await store.migrate();
    await store.close();
    await admin!.query(`INSERT INTO ${newer}.schema_version (version) VALUES (7)`);
    const reopened = createPostgresStore({ connectionString: url!, schema: newer });
    const failure = await reopened.countItems('u1').catch((error) => error);
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toMatch(/schema version 7.*reads up to 2.*Upgrade @userplug\/store-postgres/s);
    await reopened.close();

    const foreign = freshSchema();
    await admin!.query(`CREATE SCHEMA ${foreign}; CREATE TABLE ${foreign}.invoices (id int)`);
    const foreignStore = createPostgresStore({ connectionString: url!, schema: foreign });
    await expect(foreignStore.migrate()).rejects.toThrow(/not userplug's. Pass another `schema`/);
    await foreignStore.close();

    const missing = createPostgresStore({ connectionString: url!, schema: freshSchema(), migrate: false });
    await expect(missing.listItems('u1')).rejects.toThrow(/`migrate` is false.*migrate: true/s);
    await missing.close();
  });

  it('refuses another encoder, NUL and lone surrogates in ids, and stores NUL in texts and conversation fields as U+FFFD', async () => {
    const store = createPostgresStore({ connectionString: url!, schema: freshSchema() });
    const personalizer = createPersonalizer({ encoder: hashing(), store, embeddingCacheSize: 0 });
    await personalizer.ingest('u1', syntheticHistory(5));
    const other = createPersonalizer({
      encoder: createHashingEncoder({ dim: 32 }),
      store,
      embeddingCacheSize: 0,
    });
    const refused = await other.ingest('u1', syntheticHistory(6)).catch((error) => error);
    expect(StoreError.isInstance(refused)).toBe(true);
    expect(refused.message).toMatch(
      /encoder "hashing-32" \(32 dimensions\).*encoder "hashing-64" \(64 dimensions\).*userplug forget --user u1/s,
    );
    expect(await store.countItems('u1')).toBe(5);
    await expect(store.listItems('a\u0000b')).rejects.toThrow(/NUL/);
    await expect(store.listItems('a\uD800')).rejects.toThrow(/lone UTF-16 surrogate/);
    const withNul = makeStoredItem('a', 'nul\u0000inside', {
      kind: 'k\u0000',
      label: 'x\u0000',
      speaker: 'An\u0000a',
      conversationId: 'c\u0000',
      sessionId: 's\u0000',
      meta: { note: 'y\u0000' },
    });
    await store.upsertItems('u2', [withNul]);
    const [item] = await store.listItems('u2');
    expect(item).toMatchObject({
      text: 'nul\uFFFDinside',
      kind: 'k\uFFFD',
      label: 'x\uFFFD',
      speaker: 'An\uFFFDa',
      conversationId: 'c\uFFFD',
      sessionId: 's\uFFFD',
      meta: { note: 'y\uFFFD' },
    });
    expect(await store.upsertItems('u2', [withNul])).toEqual({ inserted: 0, updated: 0 });
    await store.close();
  });
});

describe.skipIf(!url)('createPostgresStore: crash safety and concurrency', () => {
  describeStoreResilience({
    newLocation: () => ({ url: url!, schema: freshSchema() }),
    open: (location: { url: string; schema: string }) =>
      createPostgresStore({ connectionString: location.url, schema: location.schema }),
    ingestScript: fileURLToPath(new URL('../test-support/ingest-child.ts', import.meta.url)),
    nodeArguments: ['--conditions=@userplug/source', '--import', 'tsx'],
    async checkIntact({ schema }) {
      const orphans = await admin!.query(
        `SELECT count(*)::int AS count FROM ${schema}.vectors v WHERE NOT EXISTS
         (SELECT 1 FROM ${schema}.items i WHERE i.user_id = v.user_id AND i.text_hash = v.text_hash)`,
      );
      expect(orphans.rows[0].count).toBe(0);
    },
  });
});

describe('createPostgresStore: a connection ended on hand-over', () => {
  it('reports a FATAL that arrives before the awaiting code resumes as a StoreError, never as an uncaught error', async () => {
    const fatal = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    // A client the pool hands over while the same read also holds the server's FATAL (a fast shutdown):
    // the error is emitted before any `await` on the hand-over resumes.
    const client = Object.assign(new EventEmitter(), {
      query: async () => {
        throw fatal;
      },
      release() {},
    });
    const handOver = () => queueMicrotask(() => client.emit('error', fatal));
    const pool = Object.assign(new EventEmitter(), {
      connect(callback?: (error: Error | undefined, client: unknown, release: () => void) => void) {
        if (!callback) {
          handOver();
          return Promise.resolve(client);
        }
        callback(undefined, client, () => {});
        handOver();
      },
      query: client.query,
      end: async () => {},
    }) as unknown as pg.Pool;
    const store = createPostgresStore({ pool });
    const failure = await store.countItems('maya').catch((error: unknown) => error);
    expect(StoreError.isInstance(failure)).toBe(true);
    expect((failure as StoreError).message).toContain('terminating connection');
  });
});
