import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { describeStoreConformance } from '../test-support/store-conformance.js';
import { createSqliteStore } from './create-sqlite-store.js';

const folder = mkdtempSync(join(tmpdir(), 'userplug-sqlite-'));
let files = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('createSqliteStore (float32)', () => {
  describeStoreConformance({ open: async () => createSqliteStore({ path: join(folder, `f${files++}.db`) }) });
});

describe('createSqliteStore (int8)', () => {
  describeStoreConformance({
    open: async () => createSqliteStore({ path: join(folder, `q${files++}.db`), quantization: 'int8' }),
    vectorTolerance: 0.02,
    propertyRuns: 10,
  });
});
