import type { Encoder } from '@userplug/core';
import { documentIds, type Retriever, topIds } from './retriever.js';

/** Settings of {@link createDenseRetriever}. */
export interface DenseRetrieverSettings {
  /** Sentence encoder (for example `await loadDefaultEncoder()`). Required. */
  encoder: Encoder | Promise<Encoder>;
  /**
   * `document` (default): one vector per document, its whole text (the encoder reads only its first tokens).
   * `lines`: one vector per non-empty line (a message, a product), a document scored by the mean of its
   * two best line similarities (its best one when it has a single line).
   */
  granularity?: 'document' | 'lines';
  /** Method name. Default `dense` (`dense-lines` for lines). */
  name?: string;
}

function dotProduct(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

function linesOf(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines : [text];
}

/** Dense retrieval by cosine similarity between the query vector and document (or line) vectors. */
export function createDenseRetriever(settings: DenseRetrieverSettings): Retriever {
  const granularity = settings.granularity ?? 'document';
  const name = settings.name ?? (granularity === 'lines' ? 'dense-lines' : 'dense');
  const encoderPromise = Promise.resolve(settings.encoder);
  return {
    name,
    async encoderId() {
      return (await encoderPromise).id;
    },
    async index(documents) {
      const encoder = await encoderPromise;
      const ids = documentIds(documents);
      const owners: number[] = [];
      const texts: string[] = [];
      documents.forEach((document, row) => {
        const pieces = granularity === 'lines' ? linesOf(document.text) : [document.text];
        for (const piece of pieces) {
          owners.push(row);
          texts.push(piece);
        }
      });
      const vectors = texts.length > 0 ? await encoder.encode(texts) : [];
      const score = async (query: string) => {
        const [queryVector] = await (encoder.encodeQueries ?? encoder.encode).call(encoder, [query]);
        const best = new Float64Array(ids.length).fill(Number.NEGATIVE_INFINITY);
        const second = new Float64Array(ids.length).fill(Number.NEGATIVE_INFINITY);
        vectors.forEach((vector, row) => {
          const owner = owners[row]!;
          const similarity = dotProduct(vector, queryVector!);
          if (similarity > best[owner]!) {
            second[owner] = best[owner]!;
            best[owner] = similarity;
          } else if (similarity > second[owner]!) {
            second[owner] = similarity;
          }
        });
        const scores = new Float64Array(ids.length);
        for (let row = 0; row < ids.length; row++) {
          scores[row] =
            second[row] === Number.NEGATIVE_INFINITY ? best[row]! : (best[row]! + second[row]!) / 2;
        }
        return scores;
      };
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
