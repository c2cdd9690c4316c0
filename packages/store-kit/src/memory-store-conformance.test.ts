import { createMemoryStore } from '@userplug/core';
import { describe } from 'vitest';
import { describeStoreConformance } from './testing/index.js';

// The reference store passes the same contract as the SQLite and PostgreSQL stores.
describe('memory store (reference)', () => {
  describeStoreConformance({ open: async () => createMemoryStore() });
});
