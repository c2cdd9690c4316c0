import type { HistoryItemInput } from '@userplug/core';
import { InvalidArgumentError } from '@userplug/core';

/** Ranks one user's documents for a query. Created per method by a `create…Retriever` factory. */
export interface Retriever {
  /** Method name as the CLI spells it, such as `bm25`. */
  readonly name: string;
  /** The encoder's id for embedding methods, such as `use-lite-512`; undefined for lexical ones. */
  encoderId(): Promise<string | undefined>;
  /**
   * Indexes one user's documents; only these are searched. Documents carry ids and text (and optional
   * timestamp and kind): never gold labels or evidence.
   */
  index(documents: readonly HistoryItemInput[], context: { userId: string }): Promise<RetrieverIndex>;
  /** Frees what the retriever created (models, stores); an encoder passed in stays the caller's. */
  dispose(): Promise<void>;
}

/** What a rendered persona quotes. */
export interface PersonaQuotes {
  /** Ids of the documents quoted, in the order of the quotes. */
  itemIds: string[];
  /** Tokens of the persona text. */
  tokens: number;
}

/** One user's indexed documents. */
export interface RetrieverIndex {
  /** Document ids, in index order. */
  readonly ids: readonly string[];
  /** Document ids, best first, at most `limit`. */
  search(query: string, limit: number): Promise<string[]>;
  /** A score per document (index order, higher is better), when the method has comparable scores. */
  score?(query: string): Promise<ArrayLike<number>>;
  /**
   * The persona text a hosted LLM would read for the query under a token budget (methods that render one): the ids
   * of every document it quotes (a quote of merged near-duplicates names them all) and its tokens.
   */
  persona?(query: string, budget: number): Promise<PersonaQuotes>;
  /** Frees this user's index. */
  close(): Promise<void>;
}

/** Ids of the `limit` highest scores, best first; ties keep document order. */
export function topIds(ids: readonly string[], scores: ArrayLike<number>, limit: number): string[] {
  const order = Array.from(ids.keys());
  order.sort((left, right) => scores[right]! - scores[left]! || left - right);
  return order.slice(0, Math.max(0, limit)).map((row) => ids[row]!);
}

/** Document ids of a history, checked to be unique (rankings are scored by id). */
export function documentIds(documents: readonly HistoryItemInput[]): string[] {
  const ids = documents.map((document) => String(document.id));
  if (new Set(ids).size !== ids.length) {
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    throw new InvalidArgumentError(
      'documents',
      `Document id "${duplicate}" occurs twice in one user's documents; ids must be unique. Give each document its own id.`,
    );
  }
  return ids;
}
