export type { VectorQuantization } from '@userplug/core';
export {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreSettings,
} from './create-postgres-store.js';
