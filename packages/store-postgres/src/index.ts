export type { VectorQuantization } from '@userplug/core/internal';
export {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreSettings,
} from './create-postgres-store.js';
