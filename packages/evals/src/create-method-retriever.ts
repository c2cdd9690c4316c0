import type { Encoder, PersonalizerSettings } from '@userplug/core';
import { InvalidArgumentError } from '@userplug/core';
import { createBm25Retriever } from './create-bm25-retriever.js';
import { createDenseRetriever } from './create-dense-retriever.js';
import { createHybridRetriever } from './create-hybrid-retriever.js';
import { createUserplugRetriever } from './create-userplug-retriever.js';
import type { Retriever } from './retriever.js';

/** Retrieval methods by CLI name. */
export const retrievalMethods = {
  bm25: 'BM25 (core Bm25Index) over the session text',
  dense: 'one vector per session (the encoder reads its first ~128 tokens)',
  'dense-lines': 'one vector per line (message or product); a session scores the mean of its best two lines',
  hybrid: 'reciprocal rank fusion (k = 60) of bm25 and dense',
  'hybrid-lines': 'reciprocal rank fusion (k = 60) of bm25 and dense-lines',
  userplug: "core's query-aware user embedder: sessions ranked by personalize() attention weight",
} as const;

/** A retrieval method's CLI name. */
export type RetrievalMethod = keyof typeof retrievalMethods;

/** Whether a name is a known retrieval method. */
export function isRetrievalMethod(name: string): name is RetrievalMethod {
  return Object.hasOwn(retrievalMethods, name);
}

/** Options of {@link createMethodRetriever}. */
export interface MethodRetrieverOptions {
  /** Encoder for the embedding methods (the default encoder, usually cached on disk); unused by `bm25`. */
  encoder?: Encoder | Promise<Encoder>;
  /** Extra personalizer settings for `userplug` (attention temperature, lexical weight, …). */
  personalizer?: Omit<PersonalizerSettings, 'encoder' | 'maxAttributions'>;
}

/** Creates the retriever of a named method. */
export function createMethodRetriever(method: RetrievalMethod, options: MethodRetrieverOptions): Retriever {
  if (method === 'bm25') return createBm25Retriever();
  const { encoder } = options;
  if (encoder === undefined)
    throw new InvalidArgumentError(
      'encoder',
      `Method "${method}" embeds text: pass an encoder (for example await loadEvalEncoder()).`,
    );
  switch (method) {
    case 'dense':
      return createDenseRetriever({ encoder });
    case 'dense-lines':
      return createDenseRetriever({ encoder, granularity: 'lines' });
    case 'hybrid':
      return createHybridRetriever({
        retrievers: [createBm25Retriever(), createDenseRetriever({ encoder })],
      });
    case 'hybrid-lines':
      return createHybridRetriever({
        name: 'hybrid-lines',
        retrievers: [createBm25Retriever(), createDenseRetriever({ encoder, granularity: 'lines' })],
      });
    case 'userplug':
      return createUserplugRetriever({ ...options.personalizer, encoder });
  }
}
