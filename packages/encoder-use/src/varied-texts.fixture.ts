// Invented texts for the equivalence tests and the comparison bench: English chat of every length, long texts
// past the model's 128 tokens, 18 other languages and scripts, emoji, symbols, and texts that are empty once
// normalised. Reproducible from the seed; nothing here comes from a benchmark.

const englishWords = (
  'i you we they it this that my your our the a an and but or so because if when then just really very also ' +
  'still again never always maybe love like want need think know feel hope try make go went come get took see ' +
  'watch read write cook eat drink play run walk work call book buy pay plan weekend morning evening dinner ' +
  'coffee tea recipe garden dog cat kids friend team meeting project deadline report budget flight hotel trip ' +
  'beach mountains hiking trail bike marathon gym yoga guitar concert album movie series novel podcast doctor ' +
  'apartment rent kitchen sofa laptop phone camera photos birthday wedding vacation weather rain snow summer'
).split(' ');

const otherLanguages = [
  'Wir fahren am Wochenende mit den Kindern an den See und grillen am Abend.',
  'Je cherche un petit café tranquille pour travailler le samedi matin.',
  'Mañana vamos a caminar por la montaña si no llueve demasiado.',
  'Comprei uma bicicleta nova e quero pedalar até a praia no domingo.',
  'Stasera cucino la pasta al pomodoro per i miei vicini di casa.',
  'Ik heb eindelijk mijn oude gitaar gerepareerd en speel weer elke avond.',
  'W przyszłym tygodniu jadę w góry z przyjaciółmi na trzy dni.',
  'Bu akşam arkadaşlarımla yeni açılan restoranda yemek yiyeceğiz.',
  'Я наконец-то закончил читать эту длинную книгу о путешествиях.',
  'Το καλοκαίρι θέλω να πάω διακοπές σε ένα μικρό νησί.',
  'أحب أن أشرب القهوة في الصباح قبل أن أبدأ العمل.',
  'אני מתכנן טיול רגלי בסוף השבוע הבא עם המשפחה.',
  'मैं हर सुबह पार्क में दौड़ने जाता हूँ और फिर चाय पीता हूँ।',
  '我这个周末想去山里徒步，然后在湖边吃晚饭。',
  '来週の土曜日に友達と新しいカフェに行く予定です。',
  '이번 주말에는 가족과 함께 바닷가에 갈 거예요.',
  'สุดสัปดาห์นี้ฉันจะไปเดินป่ากับเพื่อนๆ',
  'Cuối tuần này tôi sẽ nấu phở cho cả gia đình.',
];

const emoji = [
  '😀',
  '🎉',
  '👍🏽',
  '👨‍👩‍👧',
  '🇯🇵',
  '❤️',
  '🏔️',
  '☕',
  '🚲',
  '🤔',
  '✨',
  '🙏🏻',
  '🐶',
  '🍕',
  '📚',
];

const symbolTexts = [
  'https://example.com/recipes?id=42&sort=new',
  '#weekend @anna see you at 7:30pm!!!',
  'C:\\Users\\me\\Documents\\plan.txt',
  '3.14159 + 2.71828 = 5.85987',
  '$1,299.99 (incl. VAT) — 20% off',
  'const total = items.reduce((sum, item) => sum + item.price, 0);',
  '!!!???...',
  '¯\\_(ツ)_/¯',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'e-mail: someone@example.org, tel. +49 30 1234567',
  '½ cup sugar, ¼ tsp salt, 2× eggs',
  'ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ and ﬁne ligatures',
];

/** Texts that normalise to nothing: whitespace, zero-width and format characters. */
export const emptyAfterNormalization = [
  '',
  ' ',
  '\t\n',
  '\u200b',
  '\u200b\u200d',
  '\u00a0\u00a0',
  '\ufeff',
  '\u2060 \u200c',
  '\r\n\r\n',
  '\u3000',
];

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `count` varied texts (default 1,000), reproducible from `seed`; every kind above appears. */
export function createVariedTexts(count = 1_000, seed = 7): string[] {
  const random = seeded(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const words = (min: number, max: number) => {
    const length = min + Math.floor(random() * (max - min + 1));
    const chosen = Array.from({ length }, () => pick(englishWords));
    chosen[0] = chosen[0]!.charAt(0).toUpperCase() + chosen[0]!.slice(1);
    return `${chosen.join(' ')}${pick(['.', '!', '?', '', '...'])}`;
  };
  const kinds: (() => string)[] = [
    () => words(1, 4),
    () => words(5, 12),
    () => words(5, 12),
    () => words(13, 60),
    () => words(13, 60),
    () => words(150, 400),
    () => pick(otherLanguages),
    () => `${pick(otherLanguages)} ${pick(otherLanguages)}`,
    () => `${words(3, 10)} ${pick(otherLanguages)}`,
    () => `${words(2, 12)} ${pick(emoji)}${random() < 0.5 ? pick(emoji) : ''}`,
    () => `${pick(emoji)} ${pick(otherLanguages)}`,
    () => Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(emoji)).join(''),
    () => pick(symbolTexts),
    () => pick(emptyAfterNormalization),
    () => words(5, 20).toUpperCase(),
  ];
  const texts: string[] = [...emptyAfterNormalization, ...symbolTexts, ...otherLanguages];
  while (texts.length < count) texts.push(pick(kinds)());
  return texts.slice(0, count);
}
