/**
 * Tests any `UserplugStore` must pass, and the helpers they run on: `describeStoreConformance` (the contract,
 * in one process) and `describeStoreResilience` (crash safety and concurrency, with writers in child
 * processes). Needs the peer dependencies `vitest` and `fast-check`, and `tsx` for TypeScript child scripts.
 */
export {
  benchStore,
  type StoreBenchResult,
  type StoreBenchSettings,
} from './bench-store.js';
export {
  checkSchemaOneUpgrade,
  type SchemaOneRow,
  schemaOneItems,
  schemaOneRow,
} from './check-store-upgrade.js';
export {
  describeStoreConformance,
  type StoreConformanceSettings,
} from './describe-store-conformance.js';
export { describeStoreResilience, type StoreResilienceSettings } from './describe-store-resilience.js';
export { type KillSettings, killingStore } from './killing-store.js';
export { makeStoredItem, vectorFor } from './make-stored-item.js';
export {
  batchStoredLine,
  type IngestChildTask,
  ingestChildHistory,
  ingestResultOf,
  runIngestChild,
} from './run-ingest-child.js';
export { type ChildExit, type StartChildOptions, startChild } from './start-child.js';
export { syntheticHistory, syntheticItem } from './synthetic-history.js';
