import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSeededRandom, mixSeed } from '@userplug/core/internal';
import { lampMovieTags } from './lamp-labels.js';
import type { LampData, LampExample, LampProfileEntry } from './training-data.js';

/** Options of {@link createSyntheticLamp}. */
export interface SyntheticLampOptions {
  /** `LaMP_2` (movie tags with per-user tagging habits) or `LaMP_3` (review scores with per-user leniency). */
  task: 'LaMP_2' | 'LaMP_3';
  /** Users (one question each, as in LaMP). */
  users: number;
  /** Seed; equal seeds give equal data. */
  seed: number;
  /** Profile entries per user. Default 16. */
  profileSize?: number;
  /** First user number (so train and test users differ). Default 0. */
  firstUser?: number;
}

interface Genre {
  subjects: string[];
  actions: string[];
  places: string[];
  /** The two tags users choose between for this genre. */
  tags: [string, string];
}

// Small LaMP-format data written by this project (not LaMP data): users differ in how they tag or score.
const genres: Genre[] = [
  {
    subjects: ['a crew of astronauts', 'a lonely robot', 'an alien scout', 'a starship captain'],
    actions: ['explores', 'escapes from', 'repairs', 'defends'],
    places: ['a distant galaxy', 'a failing space station', 'the rings of Saturn', 'an abandoned moon base'],
    tags: ['sci-fi', 'dystopia'],
  },
  {
    subjects: ['a retired detective', 'a ruthless gang boss', 'a young hitman', 'a corrupt cop'],
    actions: ['hunts down', 'betrays', 'robs', 'takes revenge on'],
    places: ['the mob of a rainy city', 'a casino in Las Vegas', 'a drug cartel', 'the docks of Marseille'],
    tags: ['violence', 'twist ending'],
  },
  {
    subjects: ['two strangers', 'a shy florist', 'a widowed baker', 'childhood sweethearts'],
    actions: ['fall in love in', 'meet again in', 'write letters across', 'plan a wedding in'],
    places: ['Paris in the spring', 'a small seaside town', 'Victorian London', 'a summer vineyard'],
    tags: ['romance', 'classic'],
  },
  {
    subjects: [
      'a clumsy waiter',
      'three bickering cousins',
      'a talking dog',
      'an awkward substitute teacher',
    ],
    actions: ['ruins', 'crashes', 'accidentally wins', 'gets lost at'],
    places: ['a family wedding', 'a cooking contest', 'a road trip to Vegas', 'the school talent show'],
    tags: ['comedy', 'dark comedy'],
  },
  {
    subjects: ['a young wizard', 'an elf princess', 'a band of dwarves', 'a dragon rider'],
    actions: ['searches for', 'guards', 'breaks the curse of', 'travels to'],
    places: ['an enchanted kingdom', 'a magic sword', 'the tower of a sorcerer', 'a hidden fairy realm'],
    tags: ['fantasy', 'based on a book'],
  },
  {
    subjects: ['a coal miner', 'a civil rights lawyer', 'a wartime nurse', 'an immigrant family'],
    actions: ['fights for', 'survives', 'testifies about', 'rebuilds'],
    places: ['justice in the 1960s', 'the great depression', 'a field hospital in 1944', 'a factory strike'],
    tags: ['true story', 'social commentary'],
  },
];

const reviewSubjects = [
  'kettle',
  'blender',
  'vacuum cleaner',
  'desk lamp',
  'backpack',
  'phone case',
  'coffee grinder',
  'rice cooker',
];
const sentiments: string[][] = [
  [
    'broke after two days and support ignored me',
    'is a waste of money, it stopped working at once',
    'arrived cracked and smells of burnt plastic',
  ],
  [
    'is disappointing, flimsy and noisy',
    'works but feels cheap and wobbly',
    'does the job poorly and the lid leaks',
  ],
  [
    'is okay, nothing special',
    'works as described, average quality',
    'is fine for the price, some rough edges',
  ],
  ['works well and looks nice', 'is solid and easy to clean', 'does its job reliably, good value'],
  [
    'is fantastic, I love it',
    'is excellent, best purchase this year',
    'is perfect, beautifully made and quiet',
  ],
];

/**
 * A seeded LaMP-format task for tests and demonstrations (not LaMP data): `LaMP_2`-like movie tagging
 * where each user habitually picks one of two tags per genre, or `LaMP_3`-like review scoring where each
 * user is harsh, neutral or generous. The label depends on the user, so a persona has something to add.
 */
export function createSyntheticLamp(options: SyntheticLampOptions): LampData {
  const profileSize = options.profileSize ?? 16;
  const examples: LampExample[] = [];
  for (let user = options.firstUser ?? 0; user < (options.firstUser ?? 0) + options.users; user++) {
    const random = createSeededRandom(mixSeed(options.seed, options.task, user));
    const pick = <T>(values: readonly T[]): T => values[random.below(values.length)]!;
    const date = (day: number) =>
      new Date(Date.UTC(2020, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
    const profile: LampProfileEntry[] = [];
    if (options.task === 'LaMP_2') {
      const habit = genres.map(() => random.below(2));
      const movie = () => {
        const genre = random.below(genres.length);
        const entry = genres[genre]!;
        return {
          genre,
          description: `${pick(entry.subjects)} ${pick(entry.actions)} ${pick(entry.places)}.`,
        };
      };
      const tagOf = (genre: number) => {
        const choice = random.next() < 0.1 ? 1 - habit[genre]! : habit[genre]!;
        return genres[genre]!.tags[choice]!;
      };
      for (let row = 0; row < profileSize; row++) {
        const { genre, description } = movie();
        profile.push({
          id: `${user}-${row}`,
          description: description[0]!.toUpperCase() + description.slice(1),
          tag: tagOf(genre),
          date: date(row * 9),
        });
      }
      const { genre, description } = movie();
      examples.push({
        id: `u${user}`,
        input:
          `Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [${lampMovieTags.join(', ')}] description: ` +
          description[0]!.toUpperCase() +
          description.slice(1),
        output: genres[genre]!.tags[habit[genre]!]!,
        profile,
      });
    } else {
      const leniency = random.below(3) - 1;
      const review = () => {
        const level = random.below(5);
        const text = `The ${pick(reviewSubjects)} ${pick(sentiments[level]!)}.`;
        return { level, text };
      };
      const scoreOf = (level: number) =>
        Math.min(5, Math.max(1, level + 1 + leniency + (random.next() < 0.1 ? pick([-1, 1]) : 0)));
      for (let row = 0; row < profileSize; row++) {
        const { level, text } = review();
        profile.push({ id: `${user}-${row}`, text, score: String(scoreOf(level)), date: date(row * 9) });
      }
      const { level, text } = review();
      examples.push({
        id: `u${user}`,
        input: `What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without further explanation. review: ${text}`,
        output: String(Math.min(5, Math.max(1, level + 1 + leniency))),
        profile,
      });
    }
  }
  return { task: options.task, examples };
}

/** Writes LaMP-format data as `{split}_questions.json` and `{split}_outputs.json` in a folder. */
export async function writeLampFiles(directory: string, data: LampData, split = 'train'): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(
    join(directory, `${split}_questions.json`),
    JSON.stringify(data.examples.map(({ id, input, profile }) => ({ id, input, profile }))),
  );
  await writeFile(
    join(directory, `${split}_outputs.json`),
    JSON.stringify({
      task: data.task ?? 'custom',
      golds: data.examples.map(({ id, output }) => ({ id, output })),
    }),
  );
}
