export type { VectorQuantization } from '@userplug/store-kit';
export {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreSettings,
} from './create-postgres-store.js';
