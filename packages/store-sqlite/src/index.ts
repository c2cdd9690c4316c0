export type { VectorQuantization } from '@userplug/core/internal';
export {
  createSqliteStore,
  defaultSqliteStorePath,
  type SqliteStore,
  type SqliteStoreSettings,
  type SqliteUserSummary,
} from './create-sqlite-store.js';
