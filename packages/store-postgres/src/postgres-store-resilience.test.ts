import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createHashingEncoder, createPersonalizer, InvalidArgumentError, StoreError } from '@userplug/core';
import { contentHash } from '@userplug/core/internal';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../../store-sqlite/test-support/child-process.js';
import { makeItem } from '../../store-sqlite/test-support/store-conformance.js';
import { syntheticHistory } from '../../store-sqlite/test-support/synthetic-history.js';
import type { PostgresIngestChildTask } from '../test-support/ingest-child.js';
import { testDatabase } from '../test-support/test-database.js';
import { createPostgresStore } from './create-postgres-store.js';

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

const childScript = fileURLToPath(new URL('../test-support/ingest-child.ts', import.meta.url));
const startIngest = (task: Omit<PostgresIngestChildTask, 'url'>) => startChild(childScript, { url, ...task });
const hashing = () => createHashingEncoder({ dim: 64 });

async function expectWholeBatches(schema: string, userId: string, batchSize: number, total: number) {
  const store = createPostgresStore({ connectionString: url!, schema });
  try {
    const items = await store.listItems(userId);
    // Each batch is one transaction: only whole batches, in order, and every item complete.
    expect(items.length % batchSize).toBe(0);
    expect(items.length).toBeLessThan(total);
    expect(items.map((item) => item.id)).toEqual(
      Array.from({ length: items.length }, (_, index) => `item-${index}`),
    );
    for (const item of items) {
      expect(item.vectors.length).toBe(item.pieceCount * 64);
      expect(item.textHash).toBe(contentHash(item.text));
    }
    const orphans = await admin!.query(
      `SELECT count(*)::int AS count FROM ${schema}.vectors v WHERE NOT EXISTS
       (SELECT 1 FROM ${schema}.items i WHERE i.user_id = v.user_id AND i.text_hash = v.text_hash)`,
    );
    expect(orphans.rows[0].count).toBe(0);
    return items.length;
  } finally {
    await store.close();
  }
}

async function resumeIngest(schema: string, userId: string, total: number, alreadyStored: number) {
  const store = createPostgresStore({ connectionString: url!, schema });
  const personalizer = createPersonalizer({
    encoder: hashing(),
    store,
    batchSize: 500,
    embeddingCacheSize: 0,
  });
  const result = await personalizer.ingest(userId, syntheticHistory(total));
  expect(result).toMatchObject({ unchanged: alreadyStored, inserted: total - alreadyStored, updated: 0 });
  expect(await store.countItems(userId)).toBe(total);
  await personalizer.dispose();
  await store.close();
}

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
    expect(versions.rows).toEqual([{ version: 1 }]);
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

  it('refuses a newer schema version, a foreign schema, and a missing schema without migrate', async () => {
    const newer = freshSchema();
    const store = createPostgresStore({ connectionString: url!, schema: newer });
    await store.migrate();
    await store.close();
    await admin!.query(`INSERT INTO ${newer}.schema_version (version) VALUES (7)`);
    const reopened = createPostgresStore({ connectionString: url!, schema: newer });
    const failure = await reopened.countItems('u1').catch((error) => error);
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toMatch(/schema version 7.*reads up to 1.*Upgrade @userplug\/store-postgres/s);
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

  it('refuses another encoder, NUL and lone surrogates in ids, and stores NUL in texts as U+FFFD', async () => {
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
    await store.upsertItems('u2', [
      makeItem('a', 'nul\u0000inside', { label: 'x\u0000', meta: { note: 'y\u0000' } }),
    ]);
    const [item] = await store.listItems('u2');
    expect(item!.text).toBe('nul\uFFFDinside');
    expect(item!.meta).toEqual({ note: 'y\uFFFD' });
    expect(
      await store.upsertItems('u2', [
        makeItem('a', 'nul\u0000inside', { label: 'x\u0000', meta: { note: 'y\u0000' } }),
      ]),
    ).toEqual({ inserted: 0, updated: 0 });
    await store.close();
  });
});

describe.skipIf(!url)('createPostgresStore: crash safety and concurrency', () => {
  it('survives SIGKILL during a large ingest: only whole batches, and the ingest resumes', async () => {
    const schema = freshSchema();
    const total = 4_000;
    const batchSize = 250;
    const watcher = createPostgresStore({ connectionString: url!, schema });
    await watcher.migrate();
    const { child, done } = startIngest({ schema, userId: 'u1', count: total, batchSize });
    const deadline = Date.now() + 45_000;
    while ((await watcher.countItems('u1')) < batchSize * 3) {
      if (Date.now() > deadline) throw new Error(`child never stored 3 batches: ${(await done).output}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    const exit = await done;
    await watcher.close();
    expect(exit.signal).toBe('SIGKILL');
    const stored = await expectWholeBatches(schema, 'u1', batchSize, total);
    await resumeIngest(schema, 'u1', total, stored);
  });

  it('survives SIGKILL inside a write transaction: the half-written batch is rolled back', async () => {
    const schema = freshSchema();
    const batchSize = 300;
    const { done } = startIngest({ schema, userId: 'u1', count: 2_000, batchSize, killInsideBatch: 2 });
    const exit = await done;
    expect(exit.signal, exit.output).toBe('SIGKILL');
    const stored = await expectWholeBatches(schema, 'u1', batchSize, 2_000);
    expect(stored).toBe(2 * batchSize);
    await resumeIngest(schema, 'u1', 2_000, stored);
  });

  it('parallel writer processes and readers: no errors, no lost writes, reads only see whole batches', async () => {
    const schema = freshSchema();
    const reader = createPostgresStore({ connectionString: url!, schema });
    await reader.migrate();
    const writers = 2;
    const count = 400;
    const batchSize = 50;
    // Two writers share one user (contending for its rows and revision), one writes its own user.
    const children = [
      ...Array.from({ length: writers }, (_, writer) =>
        startIngest({ schema, userId: 'shared', count, batchSize, prefix: `w${writer}` }),
      ),
      startIngest({ schema, userId: 'own', count, batchSize, prefix: 'w9' }),
    ];
    let running = true;
    let reads = 0;
    const allDone = Promise.all(children.map(({ done }) => done)).finally(() => {
      running = false;
    });
    let lastRevision = 0;
    while (running) {
      const revision = await reader.getRevision('shared');
      expect(revision).toBeGreaterThanOrEqual(lastRevision);
      lastRevision = revision;
      const items = await reader.listItems('shared');
      for (let writer = 0; writer < writers; writer++) {
        expect(items.filter((item) => item.id.startsWith(`w${writer}-`)).length % batchSize).toBe(0);
      }
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const exit of await allDone) expect(exit.code, exit.output).toBe(0);
    expect(reads).toBeGreaterThan(1);
    expect(await reader.countItems('shared')).toBe(writers * count);
    expect(await reader.countItems('own')).toBe(count);
    await reader.close();
  });

  it('parallel upserts, deletes and reads of one user through one pool lose nothing', async () => {
    const store = createPostgresStore({ connectionString: url!, schema: freshSchema(), maxConnections: 8 });
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        index % 4 === 3
          ? store.listItems('u1')
          : store.upsertItems('u1', [
              makeItem(`i${index}`, `text ${index}`),
              makeItem(`j${index}`, `text ${index}`),
            ]),
      ),
    );
    const writes = Array.from({ length: 60 }, (_, index) => index).filter((index) => index % 4 !== 3);
    expect(await store.countItems('u1')).toBe(writes.length * 2);
    const items = await store.listItems('u1');
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    await Promise.all(writes.map((index) => store.deleteItems('u1', [`i${index}`])));
    expect(await store.countItems('u1')).toBe(writes.length);
    expect(
      (
        await store.findVectors(
          'u1',
          'test-8',
          writes.map((index) => contentHash(`text ${index}`)),
        )
      ).size,
    ).toBe(writes.length);
    await store.close();
  });
});
