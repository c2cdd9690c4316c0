import type { TokenCounter } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { lampFixtureQuestions } from './lamp.fixture.js';
import { bm25Profile, randomProfile, recentProfile } from './lamp-methods.js';
import { createLampPrompt } from './lamp-prompts.js';
import { extractStringsBetweenQuotes, lampQuery } from './lamp-tasks.js';

/** One token per word, so the template's budget arithmetic can be followed by hand. */
const words: TokenCounter = {
  id: 'words',
  count: (text) => text.split(/\s+/).filter(Boolean).length,
  truncate: (text, max) => text.split(/\s+/).filter(Boolean).slice(0, Math.max(0, max)).join(' '),
};

describe("LaMP prompts (LaMP's prompts.py templates)", () => {
  it('fills each task template with the profile entries, in order', () => {
    const movie = lampFixtureQuestions[2][0]!;
    expect(
      createLampPrompt(2, movie.input, movie.profile.slice(0, 2) as never, { tokenCounter: words }),
    ).toBe(
      `the tag for the movie: "A robot crew explores a distant galaxy." is "sci-fi" , and the tag for the movie: "Astronauts repair a station orbiting Mars." is "sci-fi" . ${movie.input}`,
    );
    const citation = lampFixtureQuestions[1][0]!;
    expect(createLampPrompt(1, citation.input, citation.profile as never, { tokenCounter: words })).toBe(
      'For an author who has written the paper with the title, and "Random walk kernels", and "Molecular fingerprints" "Graph kernels for molecules", which reference is related? Just answer with [1] or [2] without explanation. [1]: "Kernel methods on graphs" [2]: "Medieval trade routes"',
    );
    const review = lampFixtureQuestions[3][1]!;
    expect(createLampPrompt(3, review.input, review.profile as never, { tokenCounter: words })).toBe(
      `2 is the score for "Broke quickly, awful." , and 4 is the score for "Fine." . ${review.input}`,
    );
    const headline = lampFixtureQuestions[4][0]!;
    expect(
      createLampPrompt(4, headline.input, headline.profile.slice(0, 1) as never, { tokenCounter: words }),
    ).toBe(
      `"Council votes on parking fees" is the title for "The council voted on new parking fees." . ${headline.input}`,
    );
    const paper = lampFixtureQuestions[5][0]!;
    expect(createLampPrompt(5, paper.input, paper.profile as never, { tokenCounter: words })).toBe(
      `"Efficient transformers" is a title for "A survey of efficient attention." . Following the given patterns ${paper.input}`,
    );
    const tweet = lampFixtureQuestions[7][0]!;
    expect(createLampPrompt(7, tweet.input, tweet.profile as never, { tokenCounter: words })).toBe(
      `"coffee first, then the world" , and "beach day with the dogs"  are written by a person. Following the given patterns ${tweet.input}`,
    );
    expect(
      createLampPrompt(
        6,
        'Generate a subject for the email: lunch?',
        [{ id: '1', title: 'Re: lunch', text: 'Noon works' }],
        {
          tokenCounter: words,
        },
      ),
    ).toBe('"Re: lunch" is the title for "Noon works" . Generate a subject for the email: lunch?');
  });

  it('cuts entries to their share of max_length, counting one end token per text as Flan-T5 does', () => {
    const profile = [
      { id: '1', text: 'one two three four five six seven eight nine ten', score: 5 },
      { id: '2', text: 'a b c', score: 1 },
    ];
    // budget 30 - min(3, 18) = 27; per entry (27 - 1 - 2) / 2 = 12; the template takes 8; 4 left = 3 words + end.
    expect(createLampPrompt(3, 'review: good', profile, { tokenCounter: words, maxLength: 30 })).toBe(
      '5 is the score for "one two three" , and 1 is the score for "a b c" . review: good',
    );
    // A 20-word input: factors 0.6, 0.5 and 0.4 leave no room; at 0.3 each entry gets 1 token (the end token).
    const long = `review: ${'w '.repeat(19).trim()}`;
    expect(createLampPrompt(3, long, profile, { tokenCounter: words, maxLength: 30 })).toBe(
      `5 is the score for "" , and 1 is the score for "" . ${long}`,
    );
    // Nothing fits at any factor: LaMP returns the input alone.
    expect(createLampPrompt(3, long, profile, { tokenCounter: words, maxLength: 10 })).toBe(long);
    expect(createLampPrompt(3, 'review: x', [], { tokenCounter: words })).toBe('review: x');
  });

  it("extracts queries as LaMP's query makers", () => {
    expect(extractStringsBetweenQuotes('a "b" c "d e" "f')).toEqual(['b', 'd e']);
    expect(lampQuery(1, lampFixtureQuestions[1][0]!.input)).toBe(
      'Kernel methods on graphs Medieval trade routes',
    );
    expect(lampQuery(2, lampFixtureQuestions[2][0]!.input)).toBe(
      'A crew of astronauts fights to survive on Mars.',
    );
    expect(lampQuery(7, lampFixtureQuestions[7][0]!.input)).toBe('heading to the beach, sun is out!');
    expect(lampQuery(3, 'no marker here')).toBe('no marker here');
  });

  it('selects profile entries as LaMP: recency (newest first), random with replacement, BM25Okapi', () => {
    const profile = lampFixtureQuestions[3][0]!.profile as never;
    expect(recentProfile(profile, 2).map((item: { id: string }) => item.id)).toEqual(['3002', '3001']);
    expect(randomProfile(profile, 5, 1)).toHaveLength(5);
    expect(randomProfile(profile, 5, 1)).toEqual(randomProfile(profile, 5, 1));
    const question = lampFixtureQuestions[2][0]!;
    expect(bm25Profile(2, question as never, 1).map((item) => item.id)).toEqual(['m1']);
    expect(bm25Profile(2, lampFixtureQuestions[2][1]! as never, 3).map((item) => item.id)).toEqual([
      'm3',
      'm2',
      'm1',
    ]);
  });
});
