import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';
import { type LampProfileItem, type LampTaskNumber, lampTasks } from './lamp-tasks.js';

/** LaMP splits. `test` has no outputs file (its golds are held by the leaderboard). */
export type LampSplit = 'train' | 'dev' | 'test';

/** One LaMP question: an input, the user's profile, and (outside the test split) the gold output. */
export interface LampQuestion {
  id: string;
  input: string;
  profile: LampProfileItem[];
}

/** One task split. */
export interface LampDataset {
  task: LampTaskNumber;
  split: LampSplit;
  timeBased: boolean;
  /** The questions file it was read from. */
  questionsPath: string;
  questions: LampQuestion[];
  /** Gold outputs by question id; undefined when the split has no outputs file. */
  golds: Map<string, string> | undefined;
}

/** Options of {@link loadLamp}. */
export interface LoadLampOptions {
  /** Folder of the data (as `userplug-eval lamp download` writes it, or a folder holding the two files). */
  data: string;
  task: LampTaskNumber;
  split: LampSplit;
  /** The time-based split (same users, later entries). Default false: the user-based split. */
  timeBased?: boolean;
}

const idSchema = z.union([z.string(), z.number()]).transform(String);

const questionsSchema = z.array(
  z.object({
    id: idSchema,
    input: z.string(),
    profile: z.array(z.looseObject({ id: idSchema })),
  }),
);

const outputsSchema = z.object({
  task: z.string(),
  golds: z.array(z.object({ id: idSchema, output: z.union([z.string(), z.number()]).transform(String) })),
});

/** The path of a task split's files relative to the official host's base URL (and the download folder). */
export function lampRemoteFolder(task: LampTaskNumber, split: LampSplit, timeBased: boolean): string {
  return `${timeBased ? 'time/' : ''}LaMP_${task}/${task === 2 ? 'new/' : ''}${split}`;
}

/** Where a split's questions file may be: the download layout first, then flatter ones. */
export function lampCandidateFolders(options: LoadLampOptions): string[] {
  const { data, task, split } = options;
  const timeBased = options.timeBased ?? false;
  const root = resolve(data);
  const variant = timeBased ? 'time' : 'user';
  return [
    join(root, lampRemoteFolder(task, split, timeBased)),
    join(root, `LaMP_${task}`, variant, split),
    join(root, `LaMP_${task}`, variant),
    ...(timeBased ? [] : [join(root, `LaMP_${task}`, split), join(root, `LaMP_${task}`)]),
    root,
  ];
}

function readJson(path: string): Promise<unknown> {
  return readJsonFile(path, { fix: 'A partial download? Run `userplug-eval lamp download` again.' });
}

function validate<T>(path: string, schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new FileFormatError(
    path,
    `${path} is not a LaMP ${what} file: at ${issue.path.join('.') || '(root)'}: ${issue.message}.`,
    { cause: result.error },
  );
}

/** Checks a questions file's parsed JSON; returns the questions. */
export function parseLampQuestions(path: string, value: unknown): LampQuestion[] {
  return validate(path, questionsSchema, value, 'questions').map((question) => ({
    id: question.id,
    input: question.input,
    profile: question.profile as LampProfileItem[],
  }));
}

/** Checks an outputs file's parsed JSON; returns its task name and golds. */
export function parseLampOutputs(path: string, value: unknown): { task: string; golds: Map<string, string> } {
  const outputs = validate(path, outputsSchema, value, 'outputs');
  return { task: outputs.task, golds: new Map(outputs.golds.map((gold) => [gold.id, gold.output])) };
}

/** Loads `{split}_questions.json` and, when present, `{split}_outputs.json` of a LaMP task. */
export async function loadLamp(options: LoadLampOptions): Promise<LampDataset> {
  const { task, split } = options;
  const folders = lampCandidateFolders(options);
  const folder = folders.find((candidate) => existsSync(join(candidate, `${split}_questions.json`)));
  if (folder === undefined) {
    throw new FileFormatError(
      resolve(options.data),
      `No ${split}_questions.json for ${lampTasks[task].name}${options.timeBased ? ' (time-based)' : ''} under ${resolve(options.data)}. ` +
        `Looked in ${folders.join(', ')}. Run \`userplug-eval lamp download --task ${task} --split ${split}` +
        `${options.timeBased ? ' --time-based' : ''} --out ${options.data}\` first.`,
    );
  }
  const questionsPath = join(folder, `${split}_questions.json`);
  const questions = parseLampQuestions(questionsPath, await readJson(questionsPath));
  const outputsPath = join(folder, `${split}_outputs.json`);
  let golds: Map<string, string> | undefined;
  if (existsSync(outputsPath)) {
    const outputs = parseLampOutputs(outputsPath, await readJson(outputsPath));
    const expected = lampTasks[task].name;
    if (outputs.task.replace('-', '_') !== expected) {
      throw new FileFormatError(
        outputsPath,
        `${outputsPath} holds task "${outputs.task}", not ${expected}. Check --task and --data.`,
      );
    }
    golds = outputs.golds;
  }
  return { task, split, timeBased: options.timeBased ?? false, questionsPath, questions, golds };
}
