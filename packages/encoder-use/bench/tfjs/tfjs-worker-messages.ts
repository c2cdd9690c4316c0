/** What a pool worker receives at start. */
export interface WorkerStartData {
  /** Folder holding model.json and its shards. */
  readonly modelDirectory: string;
}

/** A batch sent to a worker; see `TokenBatch`. */
export interface WorkerRequest {
  readonly jobId: number;
  readonly tokenIds: Int32Array;
  readonly rowStarts: Int32Array;
}

/** What a worker posts back. */
export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'embedded'; readonly jobId: number; readonly vectors: Float32Array }
  | { readonly kind: 'embed-failed'; readonly jobId: number; readonly message: string };
