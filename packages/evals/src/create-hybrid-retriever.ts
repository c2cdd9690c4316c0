import { InvalidArgumentError } from '@userplug/core';
import type { Retriever, RetrieverIndex } from './retriever.js';
import { topIds } from './retriever.js';

/** Settings of {@link createHybridRetriever}. */
export interface HybridRetrieverSettings {
  /** The retrievers fused, such as BM25 and dense. At least two. */
  retrievers: readonly Retriever[];
  /**
   * `rrf` (default): reciprocal rank fusion, Σ 1 / (rrfK + rank). `minmax`: each method's scores scaled to
   * 0–1 over the user's documents, then summed with `weights`.
   */
  fusion?: 'rrf' | 'minmax';
  /** RRF constant. Default 60. */
  rrfK?: number;
  /** Weight of each retriever's scaled score for `minmax`. Default equal weights. */
  weights?: readonly number[];
  /** Method name. Default `hybrid`. */
  name?: string;
}

function minMax(values: ArrayLike<number>): Float64Array {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < values.length; index++) {
    low = Math.min(low, values[index]!);
    high = Math.max(high, values[index]!);
  }
  const scaled = new Float64Array(values.length);
  if (high > low)
    for (let index = 0; index < values.length; index++) scaled[index] = (values[index]! - low) / (high - low);
  return scaled;
}

/** Fuses several retrievers' rankings of the same documents into one. */
export function createHybridRetriever(settings: HybridRetrieverSettings): Retriever {
  const { retrievers } = settings;
  if (retrievers.length < 2)
    throw new InvalidArgumentError(
      'retrievers',
      'A hybrid retriever needs at least two retrievers to fuse: pass `retrievers: [a, b]`.',
    );
  const fusion = settings.fusion ?? 'rrf';
  const rrfK = settings.rrfK ?? 60;
  const weights = settings.weights ?? retrievers.map(() => 1);
  return {
    name: settings.name ?? 'hybrid',
    async encoderId() {
      for (const retriever of retrievers) {
        const id = await retriever.encoderId();
        if (id !== undefined) return id;
      }
      return undefined;
    },
    async index(documents, context) {
      const indexes: RetrieverIndex[] = [];
      for (const retriever of retrievers) indexes.push(await retriever.index(documents, context));
      const ids = indexes[0]!.ids;
      const rowOf = new Map(ids.map((id, row) => [id, row]));
      const score = async (query: string) => {
        const fused = new Float64Array(ids.length);
        for (const [position, index] of indexes.entries()) {
          if (fusion === 'minmax' && index.score) {
            const scaled = minMax(await index.score(query));
            for (let row = 0; row < ids.length; row++)
              fused[row] = fused[row]! + weights[position]! * scaled[row]!;
          } else {
            const ranking = await index.search(query, ids.length);
            ranking.forEach((id, rank) => {
              const row = rowOf.get(id)!;
              fused[row] = fused[row]! + 1 / (rrfK + rank + 1);
            });
          }
        }
        return fused;
      };
      return {
        ids,
        score,
        async search(query, limit) {
          return topIds(ids, await score(query), limit);
        },
        async close() {
          for (const index of indexes) await index.close();
        },
      };
    },
    async dispose() {
      for (const retriever of retrievers) await retriever.dispose();
    },
  };
}
