import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LampTaskNumber } from './lamp-tasks.js';
import { lampRemoteFolder } from './load-lamp.js';

// Small LaMP-format files written by this project (not LaMP data), in the official host's layout.

interface FixtureQuestion {
  id: string;
  input: string;
  profile: Record<string, unknown>[];
  output: string;
}

const movieProfile = [
  { id: 'm1', description: 'A robot crew explores a distant galaxy.', tag: 'sci-fi', date: '2019-03-01' },
  { id: 'm2', description: 'Astronauts repair a station orbiting Mars.', tag: 'sci-fi', date: '2020-05-02' },
  {
    id: 'm3',
    description: 'Two friends open a bakery and fall in love.',
    tag: 'romance',
    date: '2021-01-09',
  },
];

/** Questions of each task (dev split). */
export const lampFixtureQuestions: Record<Exclude<LampTaskNumber, 6>, FixtureQuestion[]> = {
  1: [
    {
      id: '100',
      input:
        'For an author who has written the paper with the title "Graph kernels for molecules", which reference is related? Just answer with [1] or [2] without explanation. [1]: "Kernel methods on graphs" [2]: "Medieval trade routes"',
      profile: [
        { id: '1001', title: 'Random walk kernels', abstract: 'We compare graphs with random walks.' },
        { id: '1002', title: 'Molecular fingerprints', abstract: 'Graph features for chemistry.' },
      ],
      output: '[1]',
    },
    {
      id: '101',
      input:
        'For an author who has written the paper with the title "Ports of the Hanse", which reference is related? Just answer with [1] or [2] without explanation. [1]: "Deep nets" [2]: "Baltic merchants"',
      profile: [{ id: '1011', title: 'Salt and silver', abstract: 'Trade in the Baltic sea.' }],
      output: '[2]',
    },
  ],
  2: [
    {
      id: '200',
      input:
        'Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, social commentary, violence, true story] description: A crew of astronauts fights to survive on Mars.',
      profile: movieProfile,
      output: 'sci-fi',
    },
    {
      id: '201',
      input:
        'Which tag does this movie relate to among the following tags? Just answer with the tag name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, social commentary, violence, true story] description: Two bakers fall in love in Paris.',
      profile: movieProfile,
      output: 'romance',
    },
  ],
  3: [
    {
      id: '300',
      input:
        'What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without further explanation. review: Great kettle, boils fast and looks nice.',
      profile: [
        { id: '3001', text: 'Great toaster, works well.', score: '5', date: '2018-02-02' },
        { id: '3002', text: 'Terrible blender, broke in a week.', score: '1', date: '2019-02-02' },
        { id: '3003', text: 'Great mixer.', score: '5', date: '2017-02-02' },
      ],
      output: '5',
    },
    {
      id: '301',
      input:
        'What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without further explanation. review: Broke after two days.',
      profile: [
        { id: '3011', text: 'Broke quickly, awful.', score: '2', date: '2020-01-01' },
        { id: '3012', text: 'Fine.', score: '4', date: '2021-01-01' },
      ],
      output: '2',
    },
  ],
  4: [
    {
      id: '400',
      input:
        'Generate a headline for the following article: City council approves a new bike lane network downtown.',
      profile: [
        {
          id: '4001',
          title: 'Council votes on parking fees',
          text: 'The council voted on new parking fees.',
          date: '2020-01-01',
        },
        {
          id: '4002',
          title: 'New bike lanes open',
          text: 'Cyclists celebrate the first protected lanes.',
          date: '2021-01-01',
        },
      ],
      output: 'Council approves downtown bike lanes',
    },
  ],
  5: [
    {
      id: '500',
      input:
        'Generate a title for the following abstract of a paper: We study sparse attention for long documents.',
      profile: [
        {
          id: '5001',
          title: 'Efficient transformers',
          abstract: 'A survey of efficient attention.',
          date: '2020-01-01',
        },
      ],
      output: 'Sparse attention for long documents',
    },
  ],
  7: [
    {
      id: '700',
      input:
        'Paraphrase the following tweet without any explanation before or after it: heading to the beach, sun is out!',
      profile: [
        { id: '7001', text: 'coffee first, then the world', date: '2020-01-01' },
        { id: '7002', text: 'beach day with the dogs', date: '2021-01-01' },
      ],
      output: 'beach time, the sun is out',
    },
  ],
};

function write(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

/** Writes every fixture task's dev split (questions and outputs) and a test split (questions only). */
export function writeLampFixture(root: string, options: { timeBased?: boolean } = {}): void {
  for (const [task, questions] of Object.entries(lampFixtureQuestions)) {
    const number = Number(task) as LampTaskNumber;
    for (const split of ['dev', 'test'] as const) {
      const folder = join(root, lampRemoteFolder(number, split, options.timeBased ?? false));
      write(
        join(folder, `${split}_questions.json`),
        questions.map(({ id, input, profile }) => ({ id, input, profile })),
      );
      if (split === 'dev') {
        write(join(folder, `${split}_outputs.json`), {
          task: `LaMP_${task}`,
          golds: questions.map(({ id, output }) => ({ id, output })),
        });
      }
    }
  }
}
