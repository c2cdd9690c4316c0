export {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreSettings,
} from './create-postgres-store.js';
export type { VectorQuantization } from './vector-codec.js';
