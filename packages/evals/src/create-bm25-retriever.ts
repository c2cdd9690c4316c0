import { Bm25Index, type Bm25Parameters } from '@userplug/core/internal';
import { documentIds, type Retriever, topIds } from './retriever.js';

/** Settings of {@link createBm25Retriever}. */
export interface Bm25RetrieverSettings extends Bm25Parameters {
  /** Method name. Default `bm25`. */
  name?: string;
}

/** BM25 (core's `Bm25Index`: stemmed words, stopwords dropped) over each document's text. */
export function createBm25Retriever(settings: Bm25RetrieverSettings = {}): Retriever {
  const { name = 'bm25', ...parameters } = settings;
  return {
    name,
    async encoderId() {
      return undefined;
    },
    async index(documents) {
      const ids = documentIds(documents);
      const index = new Bm25Index(parameters);
      for (const document of documents) index.add(document.text);
      const score = async (query: string) => index.score(query);
      return {
        ids,
        score,
        async search(query, limit) {
          return topIds(ids, await score(query), limit);
        },
        async close() {},
      };
    },
    async dispose() {},
  };
}
