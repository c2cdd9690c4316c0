import { describe, expect, it } from 'vitest';
import { namedPeriods, resolveTimeExpressions } from './resolve-time-expressions.js';

/** The labels of a text's relative dates, said at the given UTC date and hour. */
function labels(text: string, year: number, month: number, day: number): string[] {
  return resolveTimeExpressions(text, Date.UTC(year, month - 1, day, 15, 30)).map(
    (expression) => `${expression.text} = ${expression.label}`,
  );
}

describe('resolveTimeExpressions', () => {
  it('resolves days against the moment the text was said, across month and year ends', () => {
    expect(labels('Started at the bakery yesterday!', 2024, 3, 10)).toEqual(['yesterday = 2024-03-09']);
    expect(labels('Yesterday was wild', 2024, 3, 1)).toEqual(['yesterday = 2024-02-29']);
    expect(labels('I got back last night', 2024, 1, 1)).toEqual(['last night = 2023-12-31']);
    expect(labels('See you tomorrow', 2023, 12, 31)).toEqual(['tomorrow = 2024-01-01']);
    expect(labels('the day before yesterday and today', 2024, 3, 1)).toEqual([
      'the day before yesterday = 2024-02-28',
      'today = 2024-03-01',
    ]);
  });

  it('resolves weekdays and weekends, past by default and coming when the sentence speaks of the future', () => {
    // 2024-01-01 is a Monday.
    expect(labels('We went bowling last Saturday.', 2024, 1, 1)).toEqual(['last saturday = 2023-12-30']);
    expect(labels('I signed up on Sunday.', 2024, 1, 1)).toEqual(['on sunday = 2023-12-31']);
    expect(labels('I will sign up on Friday.', 2024, 1, 1)).toEqual(['on friday = 2024-01-05']);
    expect(labels('Dinner next Monday?', 2024, 1, 1)).toEqual(['next monday = 2024-01-08']);
    expect(labels('How was last weekend?', 2024, 1, 1)).toEqual(['last weekend = weekend of 2023-12-30']);
    expect(labels('Any plans this weekend?', 2024, 1, 3)).toEqual(['this weekend = weekend of 2024-01-06']);
  });

  it('resolves weeks, months and years, counted back or ahead', () => {
    expect(labels('I moved two weeks ago', 2024, 3, 10)).toEqual(['two weeks ago = week of 2024-02-19']);
    expect(labels('It was last week', 2024, 1, 3)).toEqual(['last week = week of 2023-12-25']);
    expect(labels('We met last month', 2024, 1, 15)).toEqual(['last month = December 2023']);
    expect(labels('She starts next month', 2023, 12, 20)).toEqual(['next month = January 2024']);
    expect(labels('a couple of months ago', 2024, 2, 10)).toEqual(['a couple of months ago = December 2023']);
    expect(labels('Back in 3 days', 2024, 12, 30)).toEqual(['in 3 days = 2025-01-02']);
    expect(labels('I painted that last year', 2023, 5, 8)).toEqual(['last year = 2022']);
    expect(labels('We adopted her a year ago', 2024, 1, 5)).toEqual(['a year ago = 2023']);
  });

  it('resolves a named month to the latest one said, or the next one when the sentence is about the future', () => {
    expect(labels('We went to Lisbon in March.', 2024, 5, 2)).toEqual(['in march = March 2024']);
    expect(labels('We went to Lisbon in November.', 2024, 5, 2)).toEqual(['in november = November 2023']);
    expect(labels('We will go to Lisbon in March.', 2024, 5, 2)).toEqual(['in march = March 2025']);
    expect(labels('Signed up for the canyon race in June.', 2024, 1, 6)).toEqual(['in june = June 2024']);
    expect(labels('Got tickets for the concert in March!', 2024, 1, 10)).toEqual(['in march = March 2024']);
    expect(labels('We went to the canyon race in June.', 2024, 1, 6)).toEqual(['in june = June 2023']);
    expect(labels('I signed up last March.', 2024, 5, 2)).toEqual(['last march = March 2024']);
    expect(labels('I read a great book in March.', 2024, 5, 2)).toEqual(['in march = March 2024']);
    expect(labels('Since January I run daily.', 2024, 5, 2)).toEqual(['since january = January 2024']);
    expect(labels('It was rainy last May', 2024, 5, 20)).toEqual(['last may = May 2023']);
    expect(labels('in may we may go', 2024, 5, 20)).toEqual([]);
  });

  it('leaves absolute dates, verbs that look like months and vague words alone', () => {
    expect(labels('The race is on March 5 and in March 2025', 2024, 1, 10)).toEqual([]);
    expect(labels('You may march in, it may rain', 2024, 1, 10)).toEqual([]);
    expect(labels('Recently, a few days ago, the other day', 2024, 1, 10)).toEqual([]);
  });

  it('finds nothing without a valid timestamp', () => {
    expect(resolveTimeExpressions('yesterday', Number.NaN)).toEqual([]);
  });
});

describe('namedPeriods', () => {
  it('reads years and months of a year from a question', () => {
    expect(namedPeriods('What did I do in 2023?')).toEqual([
      { unit: 'year', start: Date.UTC(2023, 0, 1), end: Date.UTC(2024, 0, 1), label: '2023' },
    ]);
    expect(namedPeriods('Where was I in May 2023?').map((period) => period.label)).toEqual(['May 2023']);
    expect(namedPeriods('When did I move?')).toEqual([]);
  });
});
