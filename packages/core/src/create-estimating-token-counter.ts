import { createTiktokenCounter, type TokenCounter } from './token-counter.js';
import { InvalidArgumentError } from './userplug-error.js';

/** Settings of {@link createEstimatingTokenCounter}. */
export interface EstimatingTokenCounterSettings {
  /** Counter whose counts are scaled up. Default: OpenAI's `o200k_base` BPE tokenizer. */
  base?: TokenCounter;
  /** Target tokens assumed per base token, ≥ 1. Default 1.6. */
  factor?: number;
  /** Fewest UTF-8 bytes assumed per target token, > 0: a floor for scripts the base packs densely. Default 2.5. */
  bytesPerToken?: number;
  /** The counter's id, reported in usage. Default `estimate(<base id>×<factor>)`. */
  id?: string;
}

const encoder = new TextEncoder();

/**
 * A token counter for a model whose tokenizer is not public (Claude): it never under-counts on
 * purpose, taking the larger of the base count × `factor` and UTF-8 bytes ÷ `bytesPerToken`.
 * The defaults cover the published gaps between o200k and Claude's tokenizers (see
 * @userplug/anthropic's README for the measurements); a persona held to it stays under budget.
 */
export async function createEstimatingTokenCounter(
  settings: EstimatingTokenCounterSettings = {},
): Promise<TokenCounter> {
  const factor = settings.factor ?? 1.6;
  const bytesPerToken = settings.bytesPerToken ?? 2.5;
  if (!Number.isFinite(factor) || factor < 1) {
    throw new InvalidArgumentError(
      'factor',
      `factor must be a number ≥ 1 (an estimate must not under-count), got ${String(factor)}.`,
    );
  }
  if (!Number.isFinite(bytesPerToken) || bytesPerToken <= 0) {
    throw new InvalidArgumentError(
      'bytesPerToken',
      `bytesPerToken must be a number > 0, got ${String(bytesPerToken)}.`,
    );
  }
  const base = settings.base ?? (await createTiktokenCounter({ encoding: 'o200k_base' }));
  const count = (text: string): number => {
    if (text.length === 0) return 0;
    return Math.max(
      Math.ceil(base.count(text) * factor),
      Math.ceil(encoder.encode(text).length / bytesPerToken),
    );
  };
  return {
    id: settings.id ?? `estimate(${base.id}×${factor})`,
    count,
    truncate(text, maxTokens) {
      if (maxTokens <= 0) return '';
      if (count(text) <= maxTokens) return text;
      // Binary search on the prefix length: counts grow with the prefix (up to BPE merge noise, checked below).
      let low = 0;
      let high = text.length;
      while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (count(safePrefix(text, middle)) <= maxTokens) low = middle;
        else high = middle - 1;
      }
      let prefix = safePrefix(text, low);
      while (prefix.length > 0 && count(prefix) > maxTokens) prefix = safePrefix(prefix, prefix.length - 1);
      return prefix;
    },
  };
}

/** The first `length` UTF-16 units, without a dangling high surrogate. */
function safePrefix(text: string, length: number): string {
  const prefix = text.slice(0, length);
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}
