export {
  createSqliteStore,
  defaultSqliteStorePath,
  type SqliteStore,
  type SqliteStoreSettings,
  type SqliteUserSummary,
} from './create-sqlite-store.js';
export type { VectorQuantization } from './vector-codec.js';
