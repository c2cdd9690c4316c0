const months = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const weekdays = /\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?/g;
const clock = /\b(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?=\s|$)/g;

function monthOf(word: string): number | undefined {
  const name = word.replace(/\.$/, '');
  if (name.length < 3) return undefined;
  // "mar" and "march" are March; "ma" is nothing.
  const index = months.findIndex((month) => month.startsWith(name));
  return index >= 0 ? index : undefined;
}

/**
 * Epoch milliseconds (UTC) of a date written out in words, as chat logs and exports write them:
 * "8 May 2023", "May 8, 2023", "1:56 pm on 8 May, 2023", "Monday 14 October 2024 at 7:44 AM". Undefined for
 * anything else, numeric forms such as 05/08/2023 included (their day and month order is ambiguous).
 */
export function parseWrittenDate(text: string): number | undefined {
  const normalized = ` ${text.toLowerCase().replaceAll(',', ' ')} `
    .replace(weekdays, ' ')
    .replace(/\b(?:on|at|the|of)\b/g, ' ')
    .replace(/(\d)(?:st|nd|rd|th)\b/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  let dateText = normalized;
  // A time of day has minutes or am/pm; a lone number is the day of the month.
  const time = [...normalized.matchAll(clock)].find(
    (match) => match[2] !== undefined || match[4] !== undefined,
  );
  if (time) {
    hours = Number(time[1]);
    minutes = Number(time[2] ?? 0);
    seconds = Number(time[3] ?? 0);
    const meridiem = time[4]?.replaceAll('.', '');
    if (meridiem !== undefined) {
      if (hours < 1 || hours > 12) return undefined;
      hours = (hours % 12) + (meridiem === 'pm' ? 12 : 0);
    }
    if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
    dateText = `${normalized.slice(0, time.index)} ${normalized.slice(time.index + time[0].length)}`
      .replace(/\s+/g, ' ')
      .trim();
  }
  const words = dateText.split(' ');
  if (words.length !== 3) return undefined;
  let day: number;
  let month: number | undefined;
  if (/^\d{1,2}$/.test(words[0]!)) {
    day = Number(words[0]);
    month = monthOf(words[1]!);
  } else {
    month = monthOf(words[0]!);
    day = /^\d{1,2}$/.test(words[1]!) ? Number(words[1]) : Number.NaN;
  }
  if (month === undefined || !/^\d{4}$/.test(words[2]!)) return undefined;
  const year = Number(words[2]);
  const milliseconds = Date.UTC(year, month, day, hours, minutes, seconds);
  // Date.UTC rolls 31 June over into July: a day the month does not have is no date.
  return new Date(milliseconds).getUTCDate() === day ? milliseconds : undefined;
}
