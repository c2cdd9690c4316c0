/** Piece vectors of one text. */
export interface CachedEmbedding {
  /** Row-major piece vectors. */
  vectors: Float32Array;
  /** Number of pieces. */
  pieceCount: number;
}

/** A least-recently-used cache of text embeddings, keyed by encoder and text hash. */
export class EmbeddingCache {
  private readonly entries = new Map<string, CachedEmbedding>();

  constructor(private readonly maxEntries: number) {}

  private static key(encoderId: string, textHash: string): string {
    return `${encoderId}\u0000${textHash}`;
  }

  get(encoderId: string, textHash: string): CachedEmbedding | undefined {
    const key = EmbeddingCache.key(encoderId, textHash);
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(encoderId: string, textHash: string, embedding: CachedEmbedding): void {
    if (this.maxEntries <= 0) return;
    const key = EmbeddingCache.key(encoderId, textHash);
    this.entries.delete(key);
    this.entries.set(key, embedding);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Drops the embeddings of these texts (used when a user is forgotten). */
  deleteTexts(textHashes: Iterable<string>): void {
    const hashes = new Set(textHashes);
    for (const key of this.entries.keys()) {
      if (hashes.has(key.slice(key.indexOf('\u0000') + 1))) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
