import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './create-sqlite-store.js';
import { sqliteApplicationId, sqliteMigrations } from './sqlite-migrations.js';

const folder = mkdtempSync(join(tmpdir(), 'userplug-sqlite-resilience-'));
let files = 0;
const newPath = () => join(folder, `store-${files++}.db`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const hashing = () => createHashingEncoder({ dim: 64 });

describe('createSqliteStore: files and bad input', () => {
  it('keeps everything across reopening, and a second connection sees the first one’s writes', async () => {
    const path = newPath();
    const writer = createSqliteStore({ path });
    const reader = createSqliteStore({ path });
    await writer.upsertItems('u1', [
      makeStoredItem('a', 'alpha'),
      makeStoredItem('b', 'beta', { kind: 'review', rating: 2 }),
    ]);
    expect(await reader.getRevision('u1')).toBe(await writer.getRevision('u1'));
    expect(await reader.listItems('u1')).toEqual(await writer.listItems('u1'));
    await writer.close();
    await reader.close();
    const reopened = createSqliteStore({ path });
    expect((await reopened.listItems('u1')).map((item) => item.id)).toEqual(['a', 'b']);
    expect(await reopened.describeUser('u1')).toMatchObject({ items: 2, encoderId: 'test-8', dimension: 8 });
    expect(reopened.path).toBe(path);
    await reopened.close();
  });

  it('personalizes cold from the file exactly as warm in the process that ingested', async () => {
    const path = newPath();
    const warm = createPersonalizer({
      encoder: hashing(),
      store: createSqliteStore({ path }),
      embeddingCacheSize: 0,
    });
    await warm.ingest('u1', syntheticHistory(300));
    const prompt = 'a weekend cabin near the lake with friends';
    const before = await warm.personalize({ userId: 'u1', prompt });
    const coldStore = createSqliteStore({ path });
    const cold = createPersonalizer({ encoder: hashing(), store: coldStore, embeddingCacheSize: 0 });
    const after = await cold.personalize({ userId: 'u1', prompt });
    expect(after.persona.text).toBe(before.persona.text);
    expect(after.persona.attributions).toEqual(before.persona.attributions);
    await warm.store.close();
    await coldStore.close();
  });

  it('int8 vectors take about a quarter of the space and keep the ranking', async () => {
    const items = syntheticHistory(400);
    const sizes: Record<string, number> = {};
    const attributions: Record<string, string[]> = {};
    for (const quantization of ['float32', 'int8'] as const) {
      const path = newPath();
      const store = createSqliteStore({ path, quantization });
      // A float32 index, so the ranking shows the store's quantization alone.
      const personalizer = createPersonalizer({
        encoder: createHashingEncoder({ dim: 512 }),
        store,
        embeddingCacheSize: 0,
        retrieval: { vectorPrecision: 'float32' },
      });
      await personalizer.ingest('u1', items);
      const result = await personalizer.personalize({
        userId: 'u1',
        prompt: 'trail running shoes',
        maxAttributions: 5,
      });
      attributions[quantization] = result.persona.attributions.map((attribution) => attribution.itemId);
      sizes[quantization] = new Database(path, { readonly: true })
        .prepare('SELECT sum(length(data)) FROM vectors')
        .pluck()
        .get() as number;
      await store.close();
    }
    expect(sizes.int8! / sizes.float32!).toBeLessThan(0.27);
    expect(attributions.int8!.slice(0, 3)).toEqual(attributions.float32!.slice(0, 3));
  });

  it('says what to do with a file that is not a database', () => {
    const path = newPath();
    writeFileSync(path, 'this is a text file, not a database\n'.repeat(200));
    const failure = (() => {
      try {
        createSqliteStore({ path });
      } catch (error) {
        return error;
      }
    })() as StoreError;
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toContain(path);
    expect(failure.message).toMatch(/not a database.*Restore the file from a backup, or move it away/s);
  });

  it('reports a file damaged in the middle, on read and in checkIntegrity', async () => {
    const path = newPath();
    const store = createSqliteStore({ path });
    const personalizer = createPersonalizer({ encoder: hashing(), store, embeddingCacheSize: 0 });
    await personalizer.ingest('u1', syntheticHistory(400));
    await store.close();
    const bytes = readFileSync(path);
    // Overwrite everything after the first two pages (schema and table roots stay readable).
    for (let offset = 8192; offset < bytes.length; offset++) bytes[offset] = (offset * 131) & 0xff;
    writeFileSync(path, bytes);
    const damaged = createSqliteStore({ path });
    const failure = await damaged.listItems('u1').catch((error) => error);
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toMatch(/damaged.*Restore the file from a backup/s);
    expect((await damaged.checkIntegrity()).length).toBeGreaterThan(0);
    await damaged.close();
  });

  it('refuses a foreign SQLite database and a newer schema version', async () => {
    const foreign = newPath();
    const other = new Database(foreign);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    other.close();
    expect(() => createSqliteStore({ path: foreign })).toThrow(/another application, not a userplug store/);

    const newer = newPath();
    await createSqliteStore({ path: newer }).close();
    const raw = new Database(newer);
    raw.pragma('user_version = 99');
    raw.close();
    const failure = (() => {
      try {
        createSqliteStore({ path: newer });
      } catch (error) {
        return error;
      }
    })() as StoreError;
    expect(StoreError.isInstance(failure)).toBe(true);
    expect(failure.message).toMatch(/schema version 99.*reads up to 2.*Upgrade @userplug\/store-sqlite/s);
  });

  it('upgrades a file of schema version 1 in place: rows kept, conversation fields stored from then on', async () => {
    const path = newPath();
    const old = new Database(path);
    old.exec(sqliteMigrations[0]!);
    old.pragma('user_version = 1');
    old.pragma(`application_id = ${sqliteApplicationId}`);
    const written = schemaOneItems();
    old.prepare("UPDATE store_meta SET value = 1 WHERE key = 'revision'").run();
    old.prepare("INSERT INTO users VALUES ('u1', 'test-8', 8, 1)").run();
    const putItem = old.prepare(
      `INSERT INTO items (user_id, item_id, item_hash, text_hash, encoder_id, text, kind, timestamp, rating, label, weight, meta, token_count)
       VALUES ('u1', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const putVector = old.prepare("INSERT INTO vectors VALUES ('u1', ?, ?, ?, 0, ?)");
    for (const item of written) {
      const row = schemaOneRow(item);
      putItem.run(...row.itemColumns);
      putVector.run(item.encoderId, item.textHash, row.pieceCount, row.vectorData);
    }
    old.close();

    const store = createSqliteStore({ path });
    await checkSchemaOneUpgrade(store, 'u1', written);
    await store.close();
    const upgraded = new Database(path, { readonly: true });
    expect(upgraded.pragma('user_version', { simple: true })).toBe(sqliteMigrations.length);
    upgraded.close();
  });

  it('refuses a missing file with mustExist, bad settings, and a closed store', async () => {
    const missing = join(folder, 'nope', 'missing.db');
    expect(() => createSqliteStore({ path: missing, mustExist: true })).toThrow(
      /No userplug store at .*userplug ingest/,
    );
    expect(existsSync(missing)).toBe(false);
    expect(() => createSqliteStore({ path: newPath(), quantization: 'int4' as 'int8' })).toThrow(
      /quantization/,
    );
    const store = createSqliteStore({ path: newPath() });
    await store.close();
    await store.close();
    await expect(store.listItems('u1')).rejects.toThrow(/closed/);
  });

  it('refuses ids with a lone surrogate, which UTF-8 would merge with other ids', async () => {
    const store = createSqliteStore({ path: newPath() });
    await expect(store.listItems('a\uD800')).rejects.toThrow(/lone UTF-16 surrogate/);
    await expect(store.upsertItems('a', [makeStoredItem('x\uDC00', 'alpha')])).rejects.toThrow(
      InvalidArgumentError,
    );
    await store.upsertItems('a\uD83D\uDE00', [makeStoredItem('x', 'alpha')]);
    expect(await store.listUserIds()).toEqual(['a\uD83D\uDE00']);
    await store.close();
  });

  it('reports damaged vectors and refuses another encoder, with the fix', async () => {
    const path = newPath();
    const store = createSqliteStore({ path });
    const personalizer = createPersonalizer({ encoder: hashing(), store, embeddingCacheSize: 0 });
    await personalizer.ingest('u1', syntheticHistory(5));
    const otherEncoder = createPersonalizer({
      encoder: createHashingEncoder({ dim: 32 }),
      store,
      embeddingCacheSize: 0,
    });
    const refused = await otherEncoder.ingest('u1', syntheticHistory(6)).catch((error) => error);
    expect(StoreError.isInstance(refused)).toBe(true);
    expect(refused.message).toMatch(
      /encoder "hashing-32" \(32 dimensions\).*encoder "hashing-64" \(64 dimensions\).*userplug forget --user u1/s,
    );
    expect(await store.countItems('u1')).toBe(5);
    const personalizeRefused = await otherEncoder
      .personalize({ userId: 'u1', prompt: 'shoes' })
      .catch((error) => error);
    expect(StoreError.isInstance(personalizeRefused)).toBe(true);

    const raw = new Database(path);
    raw.prepare("UPDATE vectors SET data = x'0000' WHERE rowid = (SELECT min(rowid) FROM vectors)").run();
    raw.close();
    const damaged = await store.listItems('u1').catch((error) => error);
    expect(StoreError.isInstance(damaged)).toBe(true);
    expect(damaged.message).toMatch(/wrong length for dimension 64.*ingest that item again/s);
    await store.close();
  });

  it('forget leaves no trace of the user in the file, and nobody else loses anything', async () => {
    const path = newPath();
    const store = createSqliteStore({ path });
    const personalizer = createPersonalizer({ encoder: hashing(), store, embeddingCacheSize: 0 });
    await personalizer.ingest('victim-7f3a', [
      { id: 'v1', text: 'ZEBRACORN secret diary entry about my neighbour', kind: 'post' },
      { id: 'v2', text: 'Another ZEBRACORN note with a phone number 555-0199' },
      ...syntheticHistory(200, 'victim'),
    ]);
    await store.setUserState('victim-7f3a', 'projector', new TextEncoder().encode('ZEBRACORN-STATE'));
    await personalizer.ingest('bystander', syntheticHistory(150));
    const bystanderBefore = await store.listItems('bystander');
    const report = await personalizer.forget('victim-7f3a');
    expect(report).toMatchObject({ itemsDeleted: 202, verified: true, otherDeleted: { userState: 1 } });
    expect(report.otherDeleted.vectors).toBe(202);
    expect(await store.listItems('bystander')).toEqual(bystanderBefore);
    const raw = new Database(path, { readonly: true });
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all() as string[];
    for (const table of tables) {
      const columns = raw.pragma(`table_info("${table}")`) as { name: string }[];
      if (columns.some((column) => column.name === 'user_id')) {
        expect(
          raw.prepare(`SELECT count(*) FROM "${table}" WHERE user_id = ?`).pluck().get('victim-7f3a'),
        ).toBe(0);
      }
    }
    raw.close();
    await store.close();
    for (const file of [path, `${path}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      expect(bytes.includes('ZEBRACORN')).toBe(false);
      expect(bytes.includes('victim-7f3a')).toBe(false);
    }
  });
});

describe('createSqliteStore: crash safety and concurrency', () => {
  describeStoreResilience({
    newLocation: newPath,
    open: (path: string) => createSqliteStore({ path, busyTimeoutMs: 30_000 }),
    ingestScript: fileURLToPath(new URL('../test-support/ingest-child.ts', import.meta.url)),
    nodeArguments: ['--conditions=@userplug/source', '--import', 'tsx'],
    async checkIntact(path) {
      const store = createSqliteStore({ path });
      try {
        expect(await store.checkIntegrity()).toEqual([]);
      } finally {
        await store.close();
      }
    },
  });
});
