/** Options of one `encode` call. */
export interface EncodeOptions {
  /** Cancels the call (a hosted encoder stops its request; a local one may finish the batch in flight). */
  signal?: AbortSignal;
}

/**
 * A sentence encoder: turns texts into unit-length vectors. userplug embeds each history item once
 * (cached by content hash) and the query once per call.
 */
export interface Encoder {
  /**
   * Stable id of the model and every setting that changes its vectors, such as `use-lite-512`.
   * Stored next to each vector, so vectors of different encoders are never mixed.
   */
  readonly id: string;
  /** Length of every vector this encoder returns. */
  readonly dim: number;
  /**
   * About how many tokens of a text the model reads; text past it is ignored by the model.
   * userplug cuts longer items into pieces below this size. Leave unset when the model reads long texts.
   */
  readonly maxInputTokens?: number;
  /** Embeds documents (history items): one L2-normalised vector per text, in order. */
  encode(texts: readonly string[], options?: EncodeOptions): Promise<Float32Array[]>;
  /**
   * Embeds queries, for models that embed queries differently from documents (BGE's query prefix).
   * Defaults to `encode`.
   */
  encodeQueries?(texts: readonly string[], options?: EncodeOptions): Promise<Float32Array[]>;
  /** Frees the model. The encoder must not be used afterwards. */
  dispose(): Promise<void> | void;
}
