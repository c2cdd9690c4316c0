/** Parameters of {@link createBm25Okapi}, with `rank_bm25`'s defaults. */
export interface Bm25OkapiParameters {
  /** Default 1.5. */
  k1?: number;
  /** Default 0.75. */
  b?: number;
  /** Floor of negative idfs, as a fraction of the mean idf. Default 0.25. */
  epsilon?: number;
}

/**
 * `rank_bm25.BM25Okapi` (what LaMP's bm25 retrieval uses) over pre-tokenized documents: idf
 * `ln((N - n + 0.5) / (n + 0.5))`, negative idfs replaced by `epsilon × mean idf`, query terms counted as often
 * as they occur.
 */
export function createBm25Okapi(
  corpus: readonly (readonly string[])[],
  parameters: Bm25OkapiParameters = {},
) {
  const k1 = parameters.k1 ?? 1.5;
  const b = parameters.b ?? 0.75;
  const epsilon = parameters.epsilon ?? 0.25;
  const documentFrequency = new Map<string, number>();
  const frequencies = corpus.map((document) => {
    const counts = new Map<string, number>();
    for (const word of document) counts.set(word, (counts.get(word) ?? 0) + 1);
    for (const word of counts.keys()) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
    return counts;
  });
  const size = corpus.length;
  const averageLength = size === 0 ? 0 : corpus.reduce((sum, document) => sum + document.length, 0) / size;
  const idf = new Map<string, number>();
  let idfSum = 0;
  const negative: string[] = [];
  for (const [word, frequency] of documentFrequency) {
    const value = Math.log(size - frequency + 0.5) - Math.log(frequency + 0.5);
    idf.set(word, value);
    idfSum += value;
    if (value < 0) negative.push(word);
  }
  const floor = idf.size === 0 ? 0 : (epsilon * idfSum) / idf.size;
  for (const word of negative) idf.set(word, floor);
  return {
    /** BM25 score of every document for a tokenized query. */
    scores(query: readonly string[]): Float64Array {
      const scores = new Float64Array(size);
      for (const word of query) {
        const weight = idf.get(word) ?? 0;
        for (let document = 0; document < size; document++) {
          const frequency = frequencies[document]!.get(word) ?? 0;
          const norm = k1 * (1 - b + (b * corpus[document]!.length) / averageLength);
          scores[document] = scores[document]! + (weight * (frequency * (k1 + 1))) / (frequency + norm);
        }
      }
      return scores;
    },
    /** Indexes of the `n` best documents, as `get_top_n` (`argsort()[::-1]`: equal scores, later first). */
    topN(query: readonly string[], n: number): number[] {
      const scores = this.scores(query);
      const order = Array.from(scores.keys()).sort(
        (left, right) => scores[left]! - scores[right]! || left - right,
      );
      return order.reverse().slice(0, n);
    },
  };
}
