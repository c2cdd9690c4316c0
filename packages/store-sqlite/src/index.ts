export type { VectorQuantization } from '@userplug/store-kit';
export {
  createSqliteStore,
  defaultSqliteStorePath,
  type SqliteStore,
  type SqliteStoreSettings,
  type SqliteUserSummary,
} from './create-sqlite-store.js';
