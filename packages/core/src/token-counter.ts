import { InvalidArgumentError } from './userplug-error.js';

/** Counts tokens the way the target model does, so a budget in tokens is a real limit. */
export interface TokenCounter {
  /** Name of the tokenizer, such as `o200k_base`. */
  readonly id: string;
  /** Tokens in a text. */
  count(text: string): number;
  /** The longest prefix of a text that has at most `maxTokens` tokens. */
  truncate(text: string, maxTokens: number): string;
}

/** OpenAI BPE encodings: `o200k_base` (GPT-4o, GPT-4.1, GPT-5, o-series) and `cl100k_base` (GPT-4, GPT-3.5). */
export type TiktokenEncoding = 'o200k_base' | 'cl100k_base';

/** Settings of {@link createTiktokenCounter}. */
export interface TiktokenCounterSettings {
  /** Which encoding. Default `o200k_base`. */
  encoding?: TiktokenEncoding;
}

interface BpeModule {
  encode(text: string, options?: object): number[];
  decode(tokens: Iterable<number>): string;
  countTokens(text: string, options?: object): number;
}

const loaded = new Map<TiktokenEncoding, Promise<BpeModule>>();

// History text may contain "<|endoftext|>": count it as the plain text it is.
const plainText = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

function loadEncoding(encoding: TiktokenEncoding): Promise<BpeModule> {
  let module = loaded.get(encoding);
  if (!module) {
    module =
      encoding === 'o200k_base'
        ? (import('gpt-tokenizer/encoding/o200k_base') as Promise<BpeModule>)
        : (import('gpt-tokenizer/encoding/cl100k_base') as Promise<BpeModule>);
    loaded.set(encoding, module);
  }
  return module;
}

/**
 * A token counter with OpenAI's real BPE tokenizer (the `gpt-tokenizer` package, pure JavaScript).
 * Async because the encoding's ranks (a few MB) load only when first needed.
 */
export async function createTiktokenCounter(settings: TiktokenCounterSettings = {}): Promise<TokenCounter> {
  const encoding = settings.encoding ?? 'o200k_base';
  if (encoding !== 'o200k_base' && encoding !== 'cl100k_base') {
    throw new InvalidArgumentError(
      'encoding',
      `Unknown token encoding "${String(encoding)}". Use "o200k_base" or "cl100k_base", or pass your own tokenCounter.`,
    );
  }
  const bpe = await loadEncoding(encoding);
  return {
    id: encoding,
    count: (text) => (text.length === 0 ? 0 : bpe.countTokens(text, plainText)),
    truncate(text, maxTokens) {
      if (maxTokens <= 0) return '';
      const tokens = bpe.encode(text, plainText);
      if (tokens.length <= maxTokens) return text;
      let end = maxTokens;
      while (end > 0) {
        // A cut inside a multi-byte character decodes to U+FFFD: drop it.
        const prefix = bpe.decode(tokens.slice(0, end)).replace(/\uFFFD+$/u, '');
        if (bpe.countTokens(prefix, plainText) <= maxTokens) return prefix;
        end--;
      }
      return '';
    },
  };
}

/** The OpenAI encoding a model family uses: cl100k_base for GPT-4 and GPT-3.5, o200k_base otherwise. */
export function tiktokenEncodingForModel(model: string): TiktokenEncoding {
  const name = model.toLowerCase();
  if (/^gpt-4(?!o|\.\d|-?o)/.test(name) || name.startsWith('gpt-3.5') || name.startsWith('text-embedding')) {
    return 'cl100k_base';
  }
  return 'o200k_base';
}
