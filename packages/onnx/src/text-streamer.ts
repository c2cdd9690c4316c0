import type { ChatTokenizer } from './chat-tokenizer.js';

/** Turns generated tokens into text deltas that are never taken back. */
export interface TextStreamer {
  /** Adds a token; returns the text that became safe to show, and whether a stop sequence appeared. */
  push(token: number): { delta: string; stopped: boolean };
  /** Ends the stream; returns the text still held back. */
  finish(): string;
  /** Everything shown so far. */
  readonly text: string;
  /** Tokens pushed. */
  readonly tokenCount: number;
}

/** Length of the longest end of `text` (before `end`) that starts one of the stop sequences. */
function partialStopLength(text: string, end: number, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, end); length > longest; length--) {
      if (text.startsWith(stop.slice(0, length), end - length)) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/**
 * Decodes the whole generation after each token and shows only what cannot change: text ending
 * in an incomplete character (U+FFFD) or in the start of a stop sequence is held back. At a stop
 * sequence the text ends before it.
 */
export function createTextStreamer(tokenizer: ChatTokenizer, stops: readonly string[]): TextStreamer {
  const tokens: number[] = [];
  let shown = '';
  let stopped = false;
  const longestStop = stops.reduce((longest, stop) => Math.max(longest, stop.length), 0);
  const advance = (target: string): string => {
    // Decoding may rewrite text already shown (rare): never take it back.
    if (!target.startsWith(shown) || target.length <= shown.length) return '';
    const delta = target.slice(shown.length);
    shown = target;
    return delta;
  };
  return {
    push(token) {
      if (stopped) return { delta: '', stopped: true };
      tokens.push(token);
      const decoded = tokenizer.decode(tokens);
      if (stops.length > 0) {
        const from = Math.max(0, shown.length - longestStop);
        let stopAt = -1;
        for (const stop of stops) {
          const at = decoded.indexOf(stop, from);
          if (at >= 0 && (stopAt < 0 || at < stopAt)) stopAt = at;
        }
        if (stopAt >= 0) {
          stopped = true;
          return { delta: advance(decoded.slice(0, Math.max(stopAt, shown.length))), stopped: true };
        }
      }
      let end = decoded.length;
      while (end > 0 && decoded[end - 1] === '\uFFFD') end -= 1;
      end -= partialStopLength(decoded, end, stops);
      return { delta: advance(decoded.slice(0, end)), stopped: false };
    },
    finish() {
      if (stopped || tokens.length === 0) return '';
      return advance(tokenizer.decode(tokens));
    },
    get text() {
      return shown;
    },
    get tokenCount() {
      return tokens.length;
    },
  };
}
