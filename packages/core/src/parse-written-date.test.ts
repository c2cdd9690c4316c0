import { describe, expect, it } from 'vitest';
import { parseWrittenDate } from './parse-written-date.js';

describe('parseWrittenDate', () => {
  it('reads dates written in words, with or without a time of day, as UTC', () => {
    expect(parseWrittenDate('8 May 2023')).toBe(Date.UTC(2023, 4, 8));
    expect(parseWrittenDate('May 8, 2023')).toBe(Date.UTC(2023, 4, 8));
    expect(parseWrittenDate('1:56 pm on 8 May, 2023')).toBe(Date.UTC(2023, 4, 8, 13, 56));
    expect(parseWrittenDate('12:05 am on 1 January, 2024')).toBe(Date.UTC(2024, 0, 1, 0, 5));
    expect(parseWrittenDate('Monday 14 October 2024 at 7:44 AM')).toBe(Date.UTC(2024, 9, 14, 7, 44));
    expect(parseWrittenDate('Sept 3rd, 2022 at 18:30')).toBe(Date.UTC(2022, 8, 3, 18, 30));
    expect(parseWrittenDate('29 February 2024 10 pm')).toBe(Date.UTC(2024, 1, 29, 22));
  });

  it('refuses ambiguous numeric dates, days a month lacks and anything else', () => {
    for (const text of [
      '05/08/2023',
      '31 June 2023',
      '29 February 2023',
      '13:75 on 8 May 2023',
      '13 pm on 8 May 2023',
      'yesterday',
      'May 2023',
      '8 Mayo 2023',
      '',
    ])
      expect(parseWrittenDate(text), text).toBeUndefined();
  });
});
