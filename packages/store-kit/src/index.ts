/**
 * What userplug's stores share: the vector codec, the checks of a batch of items, and the store skeleton that
 * the SQLite and PostgreSQL stores build on. Internal: it may change in any release. The store conformance
 * suite for any `UserplugStore` is `@userplug/store-kit/testing`.
 */
export {
  checkItemBatch,
  mixedEncoderError,
  requireWellFormed,
  type UserEncoder,
} from './check-item-batch.js';
export {
  createStoreSkeleton,
  type SkeletonStore,
  type StoreDriver,
  type StoredVersion,
  type StoreSkeleton,
  type TextKey,
  type UpsertDecision,
  type UpsertPlan,
} from './create-store-skeleton.js';
export type { ItemRow, ListedItemRow, VectorRow } from './item-row.js';
export {
  decodeVectors,
  encodedLength,
  encodeVectors,
  resolveQuantization,
  type VectorQuantization,
  vectorFormatCode,
} from './vector-codec.js';
