import { describe, expect, it } from 'vitest';
import { countUseTokens, createUseTokenizer, tokenizeForUse } from './create-use-tokenizer.js';
import {
  createSentencepieceTokenizer,
  normalizeForSentencepiece,
  type SentencepieceEntry,
} from './sentencepiece-tokenizer.js';

const reserved: SentencepieceEntry[] = [
  ['<unk>', 0],
  ['<s>', 0],
];

function toyTokenizer(entries: SentencepieceEntry[]) {
  const tokenizer = createSentencepieceTokenizer([...reserved, ...entries], {
    reservedCount: 2,
    unknownId: 0,
  });
  return (text: string) => tokenizer.tokenize(text).map((id) => tokenizer.pieceOf(id));
}

describe('normalizeForSentencepiece', () => {
  it('applies NFKC, collapses whitespace and marks word starts', () => {
    expect(normalizeForSentencepiece('  ﬁne\t\n café  ')).toBe('▁fine▁café');
    expect(normalizeForSentencepiece('a\u200bb')).toBe('▁ab');
    expect(normalizeForSentencepiece(' \n\t ')).toBe('');
  });
});

describe('createSentencepieceTokenizer', () => {
  it('picks the segmentation with the best total score, not the longest first piece', () => {
    const tokenize = toyTokenizer([
      ['▁', -2],
      ['▁ab', -1],
      ['c', -1],
      ['▁a', -1],
      ['bc', -0.5],
      ['a', -3],
      ['b', -3],
    ]);
    expect(tokenize('abc')).toEqual(['▁a', 'bc']);
  });

  it('maps uncovered characters to the unknown id and merges consecutive unknowns', () => {
    const tokenizer = createSentencepieceTokenizer(
      [...reserved, ['▁', -2], ['▁hi', -1], ['h', -3], ['i', -3]],
      { reservedCount: 2 },
    );
    expect(tokenizer.tokenize('hi 東京😀 hi')).toEqual([3, 2, 0, 3]);
    expect(tokenizer.tokenize('h東i')).toEqual([2, 4, 0, 5]);
  });

  it('never produces reserved ids from text that spells them', () => {
    const tokenize = toyTokenizer([
      ['▁', -2],
      ['s', -1],
      ['<', -1],
      ['>', -1],
    ]);
    expect(tokenize('<s>')).toEqual(['▁', '<', 's', '>']);
  });

  it('stops at maxTokens, counts without a limit, and handles empty text', () => {
    const tokenizer = createSentencepieceTokenizer([...reserved, ['▁', -2], ['▁a', -1]], {
      reservedCount: 2,
    });
    expect(tokenizer.tokenize('a a a a', 2)).toEqual([3, 3]);
    expect(tokenizer.countTokens('a a a a')).toBe(4);
    expect(tokenizer.tokenize('')).toEqual([]);
    expect(tokenizer.idOf('▁a')).toBe(3);
    expect(tokenizer.idOf('<s>')).toBeUndefined();
  });

  it('rejects a vocabulary entry without a finite score', () => {
    expect(() => createSentencepieceTokenizer([['a', Number.NaN]])).toThrow(/finite score/);
  });
});

describe('the USE-lite vocabulary', () => {
  const tokenizer = createUseTokenizer();
  const pieces = (text: string) => tokenizer.tokenize(text).map((id) => tokenizer.pieceOf(id));

  it('segments known sentences', () => {
    expect(pieces('I love hiking in the mountains')).toEqual([
      '▁I',
      '▁love',
      '▁hi',
      'king',
      '▁in',
      '▁the',
      '▁mountain',
      's',
    ]);
    expect(tokenizeForUse('I love hiking in the mountains')).toEqual([16, 241, 2038, 795, 15, 9, 4892, 7]);
    expect(pieces('Meet me at 12:30 :)')).toEqual(['▁Me', 'et', '▁me', '▁at', '▁12', ':30', '▁:)']);
    expect(pieces('ﬁne café')).toEqual(['▁fine', '▁ca', 'f', 'é']);
    expect(pieces('東京 😀😀 hello')).toEqual(['▁', '�', '▁', '�', '▁hell', 'o']);
  });

  it('counts tokens of long texts, and truncation keeps the same first tokens', () => {
    const long = 'The quarterly tax report is due on Friday, said my accountant. '.repeat(2_000);
    expect(countUseTokens(long)).toBe(
      2_000 * countUseTokens('The quarterly tax report is due on Friday, said my accountant.'),
    );
    expect(tokenizeForUse(long, 128)).toEqual(tokenizeForUse(long).slice(0, 128));
  });
});
