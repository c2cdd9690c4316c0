import { indexTerms } from './text-terms.js';

/** Okapi BM25 parameters. */
export interface Bm25Parameters {
  /** Term-frequency saturation. Default 1.2. */
  k1?: number;
  /** Length normalisation, 0 (none) to 1 (full). Default 0.75. */
  b?: number;
}

interface Posting {
  documents: number[];
  frequencies: number[];
}

/** An inverted index over one user's items, so a query touches only the items that share its terms. */
export class Bm25Index {
  private readonly postings = new Map<string, Posting>();
  private readonly lengths: number[] = [];
  private totalLength = 0;
  private readonly k1: number;
  private readonly b: number;

  constructor(parameters: Bm25Parameters = {}) {
    this.k1 = parameters.k1 ?? 1.2;
    this.b = parameters.b ?? 0.75;
  }

  get size(): number {
    return this.lengths.length;
  }

  /** Adds a document; documents are numbered in the order they are added. */
  add(text: string): number {
    const document = this.lengths.length;
    const terms = indexTerms(text);
    const counts = new Map<string, number>();
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, count] of counts) {
      let posting = this.postings.get(term);
      if (!posting) {
        posting = { documents: [], frequencies: [] };
        this.postings.set(term, posting);
      }
      posting.documents.push(document);
      posting.frequencies.push(count);
    }
    this.lengths.push(terms.length);
    this.totalLength += terms.length;
    return document;
  }

  /** Number of documents that contain a term (after stemming). */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.documents.length ?? 0;
  }

  /** BM25 score of every document for a query, 0 where no query term occurs. */
  score(query: string, into: Float32Array = new Float32Array(this.size)): Float32Array {
    into.fill(0);
    const count = this.size;
    if (count === 0) return into;
    const averageLength = this.totalLength / count || 1;
    const seen = new Set<string>();
    for (const term of indexTerms(query)) {
      if (seen.has(term)) continue;
      seen.add(term);
      const posting = this.postings.get(term);
      if (!posting) continue;
      const frequency = posting.documents.length;
      const idf = Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5));
      for (let index = 0; index < posting.documents.length; index++) {
        const document = posting.documents[index]!;
        const termFrequency = posting.frequencies[index]!;
        const lengthRatio = this.lengths[document]! / averageLength;
        const saturation = termFrequency + this.k1 * (1 - this.b + this.b * lengthRatio);
        into[document] = into[document]! + (idf * (termFrequency * (this.k1 + 1))) / saturation;
      }
    }
    return into;
  }
}
