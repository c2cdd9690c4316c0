import type { HistoryItemInput } from '@userplug/core';

const subjects = ['I', 'We', 'My sister', 'Our team', 'The kids', 'My partner', 'A friend'];
const verbs = 'loved tried bought returned reviewed planned booked cooked hiked read'.split(' ');
const objects = [
  'the new trail running shoes',
  'a vegetarian ramen place downtown',
  'a weekend cabin near the lake',
  'a used road bike',
  'the sci-fi novel everyone talks about',
  'a cast iron skillet',
  'a noisy hotel by the station',
  'tickets for the jazz festival',
  'a pour-over coffee kit',
  'the ridge trail at sunrise',
];
const endings = [
  'and would do it again.',
  'but the price was too high.',
  'with friends last Saturday.',
  'because the reviews were great.',
  'and the staff were friendly.',
  'though it rained all day.',
  'for the third time this year.',
];

/** Item `index` of a deterministic synthetic history: short, varied, realistic texts with typed signals. */
export function syntheticItem(index: number, prefix = 'item'): HistoryItemInput {
  const pick = <T>(list: readonly T[], salt: number): T =>
    list[(index * 7 + salt * 13 + ((index * salt) % 5)) % list.length]!;
  const sentences = 1 + (index % 3);
  const text = Array.from(
    { length: sentences },
    (_, sentence) =>
      `${pick(subjects, sentence + 1)} ${pick(verbs, sentence + 2)} ${pick(objects, sentence + 3)} ${pick(endings, sentence + 4)}`,
  ).join(' ');
  return {
    id: `${prefix}-${index}`,
    text: `${text} (#${index})`,
    kind: ['post', 'review', 'purchase', 'message'][index % 4]!,
    timestamp: 1_700_000_000_000 + index * 3_600_000,
    ...(index % 4 === 1 ? { rating: 1 + (index % 5) } : {}),
  };
}

/** `count` synthetic items, `prefix-0` … `prefix-(count-1)`. */
export function syntheticHistory(count: number, prefix = 'item'): HistoryItemInput[] {
  return Array.from({ length: count }, (_, index) => syntheticItem(index, prefix));
}
