import { describe, expect, it } from 'vitest';
import { Bm25Index } from './bm25-index.js';
import { minePhrases } from './mine-phrases.js';
import { splitIntoPieces } from './split-into-pieces.js';
import { indexTerms, stem } from './text-terms.js';

describe('lexical terms', () => {
  it('stems plural and verb forms together and drops stopwords', () => {
    expect(stem('hiking')).toBe(stem('hikes'));
    expect(stem('running')).toBe('run');
    expect(stem('berries')).toBe('berry');
    expect(indexTerms('I love the hikes')).toEqual([stem('loved'), stem('hiking')]);
  });
});

describe('Bm25Index', () => {
  it('scores only documents that share query terms, rarer terms higher', () => {
    const index = new Bm25Index();
    index.add('trail running shoes for mud');
    index.add('running late to the office again');
    index.add('quarterly tax report');
    const scores = index.score('muddy trail run');
    expect(scores[2]).toBe(0);
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBeGreaterThan(0);
  });

  it('returns zeros for an empty index or unknown terms', () => {
    expect(Array.from(new Bm25Index().score('anything'))).toEqual([]);
    const index = new Bm25Index();
    index.add('alpha beta');
    expect(Array.from(index.score('gamma'))).toEqual([0]);
  });
});

describe('splitIntoPieces', () => {
  it('keeps a short text whole', () => {
    expect(splitIntoPieces('one two three', { maxWords: 10 })).toEqual(['one two three']);
  });

  it('cuts a chat into messages, joining short lines to a neighbour', () => {
    const chat = [
      'Anna: I just got back from a week of climbing in Kalymnos, the limestone was perfect',
      'Ben: ok',
      'Anna: next year I want to try deep water soloing in Mallorca with my sister',
    ].join('\n');
    const pieces = splitIntoPieces(chat, { maxWords: 20, minWords: 4 });
    expect(pieces).toHaveLength(2);
    expect(pieces[0]).toContain('Kalymnos');
    expect(pieces[0]).toContain('Ben: ok');
    expect(pieces[1]).toContain('Mallorca');
  });

  it('never returns a piece over the word limit', () => {
    const long = Array.from({ length: 500 }, (_, index) => `w${index}`).join(' ');
    for (const piece of splitIntoPieces(long, { maxWords: 40 })) {
      expect(piece.split(/\s+/).length).toBeLessThanOrEqual(40);
    }
  });
});

describe('minePhrases', () => {
  it('ranks recurring content phrases and drops stopword runs', () => {
    const phrases = minePhrases([
      'Went trail running in the rain',
      'Trail running again, new shoes',
      'Bought new trail running shoes',
      'The and of to',
    ]).map((candidate) => candidate.phrase);
    expect(phrases[0]).toBe('trail running');
    expect(phrases).not.toContain('the');
    // Single words are not descriptors: "running" or "shoes" alone say nothing about the user.
    expect(phrases.every((phrase) => phrase.includes(' '))).toBe(true);
    expect(phrases).not.toContain('shoes');
  });
});
