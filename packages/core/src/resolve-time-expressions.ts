/** A relative time expression of a text ("yesterday", "last Saturday", "two weeks ago"), resolved to a date. */
export interface TimeExpression {
  /** The words as written, lower-cased: `last saturday`. Letters, digits and spaces only. */
  text: string;
  /** Where the expression starts in the text. */
  index: number;
  /** How precise the resolved period is. */
  unit: 'day' | 'week' | 'weekend' | 'month' | 'year';
  /** Start of the period: UTC midnight, epoch milliseconds. */
  start: number;
  /** End of the period (exclusive), epoch milliseconds. */
  end: number;
  /** The period as shown next to a quote: `2024-03-09`, `week of 2024-03-04`, `February 2024`, `2023`. */
  label: string;
}

const day = 86_400_000;
/** English names, lower-cased, of the weekdays (Sunday first) or months, from the runtime's own calendar data. */
function englishNames(count: number, option: 'weekday' | 'month', date: (index: number) => number): string[] {
  const format = new Intl.DateTimeFormat('en-US', { [option]: 'long', timeZone: 'UTC' });
  return Array.from({ length: count }, (_, index) => format.format(date(index)).toLowerCase());
}
// 2023-01-01 was a Sunday.
const weekdayNames = englishNames(7, 'weekday', (index) => Date.UTC(2023, 0, 1 + index));
const monthNames = englishNames(12, 'month', (index) => Date.UTC(2023, index, 1));
const numberWords: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  'a couple of': 2,
  'a couple': 2,
  couple: 2,
};
const countPattern = `(\\d{1,2}|a couple of|a couple|couple|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)`;
const weekdayPattern = `(${weekdayNames.join('|')})`;
// Month names are matched only after a word that makes them a date ("in May", "last March"), never alone.
const monthPattern = `(${monthNames.join('|')})`;
// Words that put a sentence in the future: "in March" then means the coming March.
const futureMarkers =
  /\b(will|won't|'ll|going to|gonna|plan|plans|planning|planned to|hope to|hoping to|looking forward|can't wait|next|upcoming|soon|tomorrow)\b/i;

// A booking names the coming event it is for: "signed up for the race in June" said in January means this June.
// Months only: "I signed up on Sunday" dates the signing itself. Not "book": "read a book in March" is past.
const commitmentMarkers =
  /\b(signed up|sign up|registered|register|booked|reserved|reserve|scheduled|tickets?)\b/i;

type Resolver = (
  match: RegExpExecArray,
  said: number,
  future: boolean,
  sentence: string,
) => Omit<TimeExpression, 'text' | 'index'> | undefined;

function midnight(timestamp: number): number {
  return Math.floor(timestamp / day) * day;
}

function isoDate(timestamp: number): string {
  return new Date(timestamp).toISOString().slice(0, 10);
}

function dayPeriod(start: number): Omit<TimeExpression, 'text' | 'index'> {
  return { unit: 'day', start, end: start + day, label: isoDate(start) };
}

/** Monday of the week holding the day. */
function mondayOf(dayStart: number): number {
  const weekday = new Date(dayStart).getUTCDay();
  return dayStart - ((weekday + 6) % 7) * day;
}

function weekPeriod(monday: number): Omit<TimeExpression, 'text' | 'index'> {
  return { unit: 'week', start: monday, end: monday + 7 * day, label: `week of ${isoDate(monday)}` };
}

function weekendPeriod(saturday: number): Omit<TimeExpression, 'text' | 'index'> {
  return {
    unit: 'weekend',
    start: saturday,
    end: saturday + 2 * day,
    label: `weekend of ${isoDate(saturday)}`,
  };
}

function monthPeriod(year: number, month: number): Omit<TimeExpression, 'text' | 'index'> {
  const start = Date.UTC(year, month, 1);
  const name = monthNames[((month % 12) + 12) % 12]!;
  const date = new Date(start);
  return {
    unit: 'month',
    start,
    end: Date.UTC(year, month + 1, 1),
    label: `${name[0]!.toUpperCase()}${name.slice(1)} ${date.getUTCFullYear()}`,
  };
}

function yearPeriod(year: number): Omit<TimeExpression, 'text' | 'index'> {
  return { unit: 'year', start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1), label: String(year) };
}

function countOf(word: string): number {
  const lower = word.toLowerCase();
  return numberWords[lower] ?? Number(lower);
}

/** The weekday `target` (0 = Sunday) nearest before (direction −1) or after (+1) the day, never the day itself. */
function weekdayFrom(dayStart: number, target: number, direction: 1 | -1): number {
  const weekday = new Date(dayStart).getUTCDay();
  let offset = direction === -1 ? (weekday - target + 7) % 7 : (target - weekday + 7) % 7;
  if (offset === 0) offset = 7;
  return dayStart + direction * offset * day;
}

function shiftByUnit(said: number, unit: string, amount: number): Omit<TimeExpression, 'text' | 'index'> {
  const today = midnight(said);
  const date = new Date(today);
  if (unit.startsWith('day')) return dayPeriod(today + amount * day);
  if (unit.startsWith('week')) return weekPeriod(mondayOf(today + amount * 7 * day));
  if (unit.startsWith('month')) return monthPeriod(date.getUTCFullYear(), date.getUTCMonth() + amount);
  return yearPeriod(date.getUTCFullYear() + amount);
}

const resolvers: [RegExp, Resolver][] = [
  [/\bthe day before yesterday\b/, (_, said) => dayPeriod(midnight(said) - 2 * day)],
  [/\bthe day after tomorrow\b/, (_, said) => dayPeriod(midnight(said) + 2 * day)],
  [/\b(yesterday|last night)\b/, (_, said) => dayPeriod(midnight(said) - day)],
  [/\b(today|tonight|this (morning|afternoon|evening))\b/, (_, said) => dayPeriod(midnight(said))],
  [/\btomorrow\b/, (_, said) => dayPeriod(midnight(said) + day)],
  [
    new RegExp(`\\b${countPattern} (day|days|week|weeks|month|months|year|years) ago\\b`),
    (match, said) => shiftByUnit(said, match[2]!, -countOf(match[1]!)),
  ],
  [
    new RegExp(`\\bin ${countPattern} (day|days|week|weeks|month|months|year|years)\\b`),
    (match, said) => shiftByUnit(said, match[2]!, countOf(match[1]!)),
  ],
  [/\b(last|this past|past) weekend\b/, (_, said) => weekendPeriod(weekdayFrom(midnight(said), 6, -1))],
  [
    /\b(this|next) weekend\b/,
    (match, said) => {
      const today = midnight(said);
      const weekday = new Date(today).getUTCDay();
      const coming = weekday === 6 ? today : weekday === 0 ? today - day : weekdayFrom(today, 6, 1);
      return weekendPeriod(match[1] === 'next' ? coming + 7 * day : coming);
    },
  ],
  [
    new RegExp(`\\b(last|this past|next|this|on) ${weekdayPattern}\\b`),
    (match, said, future) => {
      const target = weekdayNames.indexOf(match[2]!);
      const today = midnight(said);
      const modifier = match[1]!;
      const forward = modifier === 'next' || modifier === 'this' || (modifier === 'on' && future);
      return dayPeriod(weekdayFrom(today, target, forward ? 1 : -1));
    },
  ],
  [
    /\b(last|this|next) (week|month|year)\b/,
    (match, said) => shiftByUnit(said, match[2]!, match[1] === 'last' ? -1 : match[1] === 'next' ? 1 : 0),
  ],
  [
    new RegExp(`\\b(last|next|this|in|since|early|late|mid|during) ${monthPattern}\\b(?! \\d)`),
    (match, said, future, sentence) => {
      const target = monthNames.indexOf(match[2]!);
      const date = new Date(midnight(said));
      const year = date.getUTCFullYear();
      const current = date.getUTCMonth();
      const modifier = match[1]!;
      const ahead = future || (modifier === 'in' && commitmentMarkers.test(sentence));
      const forward = modifier === 'next' || (modifier !== 'last' && modifier !== 'since' && ahead);
      if (forward)
        return monthPeriod(
          target > current || (target === current && modifier !== 'next') ? year : year + 1,
          target,
        );
      return monthPeriod(
        target < current || (target === current && modifier !== 'last') ? year : year - 1,
        target,
      );
    },
  ],
];

// Every expression holds one of these words: a text without any is skipped with one test.
const timeWords = new RegExp(
  `\\b(yesterday|today|tonight|tomorrow|night|morning|afternoon|evening|days?|weeks?|weekend|months?|years?|${weekdayNames.join('|')}|${monthNames.join('|')})\\b`,
  'i',
);
const endsWithMonth = new RegExp(`(${monthNames.join('|')})$`);
const globalResolvers = resolvers.map(
  ([pattern, resolve]) => [new RegExp(pattern.source, 'g'), resolve] as const,
);

/**
 * Finds the relative time expressions of a text and resolves each against the moment it was written (UTC):
 * "yesterday" said on 2024-03-10 is 2024-03-09, "last week" the week of 2024-02-26 (weeks start on Monday),
 * "two months ago" January 2024, "in March" the latest March not after the month it was said in, or the next one
 * when the sentence speaks of the future ("will", "going to", "next", …) or books something for it ("signed up
 * for the race in June"). Absolute dates are left alone. Returns the expressions in text order, at most one per
 * place in the text.
 */
export function resolveTimeExpressions(text: string, said: number): TimeExpression[] {
  if (!Number.isFinite(said) || !timeWords.test(text)) return [];
  const lower = text.toLowerCase();
  const found: TimeExpression[] = [];
  const taken: [number, number][] = [];
  for (const [global, resolve] of globalResolvers) {
    global.lastIndex = 0;
    for (let match = global.exec(lower); match !== null; match = global.exec(lower)) {
      const start = match.index;
      const end = start + match[0].length;
      if (taken.some(([left, right]) => start < right && end > left)) continue;
      // "May" and "march" are also a verb: a month needs its capital letter in the original text.
      const month = match[0].match(endsWithMonth);
      if (month && !/^[A-Z]/.test(text.slice(end - month[0].length, end))) continue;
      const sentenceStart = Math.max(
        lower.lastIndexOf('.', start),
        lower.lastIndexOf('!', start),
        lower.lastIndexOf('?', start),
      );
      const sentenceEnd = lower.slice(end).search(/[.!?]/);
      const sentence = lower.slice(sentenceStart + 1, sentenceEnd < 0 ? undefined : end + sentenceEnd);
      const period = resolve(match, said, futureMarkers.test(sentence), sentence);
      if (!period) continue;
      taken.push([start, end]);
      found.push({ text: match[0], index: start, ...period });
    }
  }
  return found.sort((left, right) => left.index - right.index);
}

/** The periods a question asks about by name: a year ("in 2023") or a month of a year ("May 2023"). */
export function namedPeriods(text: string): { start: number; end: number; label: string }[] {
  const periods: { start: number; end: number; label: string }[] = [];
  const pattern = new RegExp(`\\b(?:${monthPattern}\\s+)?((?:19|20)\\d\\d)\\b`, 'gi');
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const year = Number(match[2]);
    const month = match[1] === undefined ? -1 : monthNames.indexOf(match[1].toLowerCase());
    periods.push(month < 0 ? yearPeriod(year) : monthPeriod(year, month));
  }
  return periods;
}
