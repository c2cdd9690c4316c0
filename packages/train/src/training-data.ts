import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  FileFormatError,
  type HistoryItemInput,
  type HistorySource,
  readHistoryFile,
  type StoredItem,
  type UserplugStore,
} from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';

/** One user's history as an app ingests it. */
export interface TrainingHistory {
  userId: string;
  items: HistoryItemInput[];
}

/** One user's history embedded by core (stored items carry their piece vectors). */
export interface EmbeddedHistory {
  userId: string;
  items: StoredItem[];
}

/** One LaMP-format profile entry: an id and its fields (`description`, `tag`, `text`, `score`, `date`, …). */
export type LampProfileEntry = { id: string } & Record<string, unknown>;

/** One supervised example: a user's profile, an input, and the gold output. */
export interface LampExample {
  id: string;
  input: string;
  output: string;
  profile: LampProfileEntry[];
}

/** LaMP-format training data. */
export interface LampData {
  /** The task name from the outputs file, such as `LaMP_2`, when known. */
  task: string | undefined;
  examples: LampExample[];
}

const idSchema = z.union([z.string().min(1), z.number()]).transform(String);
const itemArraySchema = z.array(z.unknown());
const userEntrySchema = z.object({ userId: idSchema, items: itemArraySchema });
const historiesSchema = z.union([
  z.array(userEntrySchema),
  z.object({ users: z.union([z.array(userEntrySchema), z.record(z.string(), itemArraySchema)]) }),
  z.array(z.looseObject({ userId: idSchema })),
  z.record(z.string(), itemArraySchema),
]);
const profileSchema = z.array(z.looseObject({ id: idSchema }));
const questionsSchema = z.array(z.object({ id: idSchema, input: z.string(), profile: profileSchema }));
const outputsSchema = z.object({
  task: z.string(),
  golds: z.array(z.object({ id: idSchema, output: z.union([z.string(), z.number()]).transform(String) })),
});
const joinedSchema = z.object({
  id: idSchema,
  input: z.string(),
  output: z.union([z.string(), z.number()]).transform(String),
  profile: profileSchema,
});

function fail(path: string, message: string, cause?: unknown): never {
  throw new FileFormatError(path, message, cause === undefined ? {} : { cause });
}

async function readJsonLines(path: string): Promise<unknown[]> {
  const values: unknown[] = [];
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim().length === 0) return;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      fail(path, `${path}, line ${index + 1}: not valid JSON (${(error as Error).message}).`, error);
    }
  });
  return values;
}

function validate<T>(path: string, schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  fail(
    path,
    `${path}: ${what} — field "${issue.path.join('.') || '(root)'}" ${issue.message}.`,
    result.error,
  );
}

async function collect(source: HistorySource): Promise<HistoryItemInput[]> {
  const items: HistoryItemInput[] = [];
  for await (const item of source as AsyncIterable<HistoryItemInput>) items.push(item);
  return items;
}

const historiesHelp =
  'Pass a directory of per-user history files (<userId>.json or .jsonl), a .jsonl file of items with a "userId" field ' +
  '(or of { "userId", "items" } lines), or a .json file: [{ "userId", "items" }], { "users": … } or { "<userId>": [items] }.';

function groupByUser(path: string, values: unknown[]): TrainingHistory[] {
  const users = new Map<string, HistoryItemInput[]>();
  values.forEach((value, index) => {
    const entry = userEntrySchema.safeParse(value);
    if (entry.success) {
      const list = users.get(entry.data.userId) ?? [];
      list.push(...(entry.data.items as HistoryItemInput[]));
      users.set(entry.data.userId, list);
      return;
    }
    if (typeof value !== 'object' || value === null || !('userId' in value)) {
      fail(path, `${path}: entry ${index} has no "userId". ${historiesHelp}`);
    }
    const { userId, ...item } = value as { userId: unknown } & Record<string, unknown>;
    const id = String(userId);
    const list = users.get(id) ?? [];
    list.push(item as HistoryItemInput);
    users.set(id, list);
  });
  return [...users].map(([userId, items]) => ({ userId, items }));
}

/**
 * Reads users' histories for self-supervised training: a directory of per-user files (the file name is
 * the user id), a .jsonl file (items with a `userId` field, or `{ userId, items }` lines), or a .json
 * file (`[{ userId, items }]`, `{ users: [...] | { id: items } }`, an array of items with `userId`, or
 * `{ "<userId>": items }`). Items are validated when embedded.
 */
export async function readTrainingHistories(path: string): Promise<TrainingHistory[]> {
  const info = await stat(path).catch((error: unknown) =>
    fail(path, `${path} does not exist or cannot be read. Check --data.`, error),
  );
  if (info.isDirectory()) {
    const files = (await readdir(path))
      .filter((file) => ['.json', '.jsonl', '.ndjson'].includes(extname(file)))
      .sort();
    if (files.length === 0) fail(path, `${path} holds no .json or .jsonl history files. ${historiesHelp}`);
    const histories: TrainingHistory[] = [];
    for (const file of files) {
      histories.push({
        userId: basename(file, extname(file)),
        items: await collect(await readHistoryFile(join(path, file))),
      });
    }
    return histories;
  }
  if (path.endsWith('.jsonl') || path.endsWith('.ndjson'))
    return groupByUser(path, await readJsonLines(path));
  if (!path.endsWith('.json'))
    fail(path, `${path} must be a directory, a .json or a .jsonl file. ${historiesHelp}`);
  const parsed = validate(
    path,
    historiesSchema,
    await readJsonFile(path, { fix: historiesHelp }),
    historiesHelp,
  );
  if (Array.isArray(parsed)) return groupByUser(path, parsed);
  if ('users' in parsed && parsed.users !== undefined && typeof parsed.users === 'object') {
    const users = parsed.users as unknown;
    if (Array.isArray(users)) return groupByUser(path, users);
    return Object.entries(users as Record<string, unknown[]>).map(([userId, items]) => ({
      userId,
      items: items as HistoryItemInput[],
    }));
  }
  return Object.entries(parsed as Record<string, unknown[]>).map(([userId, items]) => ({
    userId,
    items: items as HistoryItemInput[],
  }));
}

/** Every user's stored items (with their vectors) from a store, such as `userplug ingest`'s SQLite file. */
export async function readStoreHistories(
  store: UserplugStore,
  options: { userIds?: readonly string[] } = {},
): Promise<EmbeddedHistory[]> {
  const userIds = options.userIds ?? (await store.listUserIds()).sort();
  const histories: EmbeddedHistory[] = [];
  for (const userId of userIds) histories.push({ userId, items: await store.listItems(userId) });
  return histories;
}

const lampHelp =
  'Pass a folder holding {split}_questions.json and {split}_outputs.json (LaMP layout), a questions file with its ' +
  'outputs file next to it, or a .json/.jsonl file of { "id", "input", "output", "profile" } records.';

/**
 * Reads LaMP-format data: a folder with `{split}_questions.json` + `{split}_outputs.json` (split: the
 * given one, else `train`, else `dev`), a questions file whose `_outputs.json` sibling holds the golds,
 * or a .json/.jsonl file of `{ id, input, output, profile }` records. Questions without a gold are skipped.
 */
export async function readLampData(path: string, options: { split?: string } = {}): Promise<LampData> {
  const info = await stat(path).catch((error: unknown) =>
    fail(path, `${path} does not exist or cannot be read. Check --data.`, error),
  );
  let questionsPath: string;
  if (info.isDirectory()) {
    const splits = options.split ? [options.split] : ['train', 'dev'];
    const found = splits.find((split) => existsSync(join(path, `${split}_questions.json`)));
    if (!found)
      fail(
        path,
        `${path} holds no ${splits.map((split) => `${split}_questions.json`).join(' or ')}. ${lampHelp}`,
      );
    questionsPath = join(path, `${found}_questions.json`);
  } else if (path.endsWith('_questions.json')) {
    questionsPath = path;
  } else {
    const values = path.endsWith('.jsonl')
      ? await readJsonLines(path)
      : await readJsonFile(path, { fix: lampHelp });
    const records = validate(path, z.array(joinedSchema), values, lampHelp);
    return {
      task: undefined,
      examples: records.map((record) => ({ ...record, profile: record.profile as LampProfileEntry[] })),
    };
  }
  const outputsPath = questionsPath.replace(/_questions\.json$/, '_outputs.json');
  if (!existsSync(outputsPath)) {
    fail(questionsPath, `${outputsPath} is missing: supervised training needs the gold outputs. ${lampHelp}`);
  }
  const questions = validate(
    questionsPath,
    questionsSchema,
    await readJsonFile(questionsPath, { fix: lampHelp }),
    lampHelp,
  );
  const outputs = validate(
    outputsPath,
    outputsSchema,
    await readJsonFile(outputsPath, { fix: lampHelp }),
    lampHelp,
  );
  const golds = new Map(outputs.golds.map((gold) => [gold.id, gold.output]));
  const examples: LampExample[] = [];
  for (const question of questions) {
    const output = golds.get(question.id);
    if (output === undefined) continue;
    examples.push({
      id: question.id,
      input: question.input,
      output,
      profile: question.profile as LampProfileEntry[],
    });
  }
  return { task: outputs.task.replace('-', '_'), examples };
}

/** Label fields of the LaMP tasks whose entries carry the user's own label. */
const lampLabelFields: Record<string, { field: string; rating: boolean }> = {
  LaMP_2: { field: 'tag', rating: false },
  LaMP_3: { field: 'score', rating: true },
};

/**
 * A LaMP profile entry as a history item: every field but `id` and `date` as `field: value` lines (so the
 * item's vector carries the user's own label, as Persona-Plug's history text does), the task's label field
 * also as `label` (LaMP-2) or `rating` (LaMP-3), `date` as timestamp. Use the same conversion when
 * personalizing with the trained artifact.
 */
export function lampProfileToHistoryItem(
  task: string | undefined,
  entry: LampProfileEntry,
  row: number,
): HistoryItemInput {
  const lines: string[] = [];
  for (const [field, value] of Object.entries(entry)) {
    if (field === 'id' || field === 'date' || value === undefined || value === null) continue;
    const text = typeof value === 'string' ? value.trim() : JSON.stringify(value);
    if (text.length > 0) lines.push(`${field}: ${text}`);
  }
  const labelField = task === undefined ? undefined : lampLabelFields[task];
  const label = labelField === undefined ? undefined : entry[labelField.field];
  const rating = labelField?.rating ? Number(label) : Number.NaN;
  const date =
    typeof entry.date === 'string' || typeof entry.date === 'number'
      ? Date.parse(String(entry.date))
      : Number.NaN;
  return {
    id: `${row}:${entry.id}`,
    text: lines.join('\n') || '(empty)',
    ...(Number.isFinite(rating) ? { rating } : {}),
    ...(label !== undefined && labelField && !labelField.rating ? { label: String(label) } : {}),
    ...(Number.isFinite(date) ? { timestamp: date } : {}),
  };
}
