import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance } from '@userplug/store-kit/testing';
import { afterAll, describe } from 'vitest';
import { createSqliteStore, type SqliteStore } from './create-sqlite-store.js';

const folder = mkdtempSync(join(tmpdir(), 'userplug-sqlite-'));
let files = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// A second connection to the same file, as another process would open it.
const openAnother = async (store: SqliteStore) => createSqliteStore({ path: store.path });

describe('createSqliteStore (float32)', () => {
  describeStoreConformance({
    open: async () => createSqliteStore({ path: join(folder, `f${files++}.db`) }),
    openAnother,
  });
});

describe('createSqliteStore (int8)', () => {
  describeStoreConformance({
    open: async () => createSqliteStore({ path: join(folder, `q${files++}.db`), quantization: 'int8' }),
    openAnother,
    vectorTolerance: 0.02,
    propertyRuns: 10,
  });
});
