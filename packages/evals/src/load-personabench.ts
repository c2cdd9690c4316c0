import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FileFormatError, InvalidArgumentError } from '@userplug/core';
import { readJsonFile } from '@userplug/core/internal';
import { z } from 'zod';

/** The three kinds of private documents PersonaBench releases. */
export type PersonaBenchSessionKind = 'conversation' | 'user-ai-interaction' | 'purchase-history';

/** One chat turn. `role` is a person's name in conversations, `user` or `assistant` in user–AI interactions. */
export interface PersonaBenchMessage {
  role: string;
  content: string;
}

/** One bought product of a purchase-history session. */
export interface PersonaBenchProduct {
  title: string;
  description?: string;
  brand?: string;
  categories?: string[];
}

/** One session: the retrieval chunk of the official protocol, keyed by its `segment_id`. */
export interface PersonaBenchSession {
  /** The 12-digit `segment_id`; evidence refers to it. Renumbered per noise level. */
  segmentId: string;
  kind: PersonaBenchSessionKind;
  /** The person whose private data this is. */
  person: string;
  /** The release's `session` label, such as `conversation---session---1`. */
  session: string;
  /** The release's `time` text, such as `2024/Oct/14/07:44 AM`. */
  time: string;
  /** `time` as epoch milliseconds (read as UTC); undefined when it does not parse. */
  timestamp: number | undefined;
  /** The other person of a conversation. */
  targetName?: string;
  /** Messages of a conversation or user–AI interaction; empty for purchases. */
  messages: PersonaBenchMessage[];
  /** Products of a purchase-history session; empty otherwise. */
  products: PersonaBenchProduct[];
  /** The session object exactly as released (key order kept), for the official JSON chunk text. */
  raw: Readonly<Record<string, unknown>>;
}

/** A value of an answer or outdated value: text, a number, or a list (of texts, or objects such as `{"Height": "5'6\""}`). */
export type PersonaBenchValue = string | number | readonly unknown[];

/** One question with its gold data. Runners pass only `question` to a retriever or model. */
export interface PersonaBenchQuestion {
  qId: string;
  /** The asking person; only their own sessions are searched. */
  person: string;
  question: string;
  /** `Basic information`, `Preference`, `Social` or `Subjective`. */
  type: string;
  /** `easy` or `hard`. */
  difficulty: string;
  /** Gold answer. */
  answer: PersonaBenchValue;
  /** A value that used to be true; a model that still answers it has not updated. Null when none. */
  outdatedValue: PersonaBenchValue | null;
  /** Gold evidence: for every answer part, the segment ids any one of which supports it. */
  evidence: Readonly<Record<string, readonly string[]>>;
}

/** One person with documents, their sessions and their questions. */
export interface PersonaBenchPerson {
  name: string;
  /** The persona sentence of the social graph, when present. */
  persona?: string;
  sessions: PersonaBenchSession[];
  questions: PersonaBenchQuestion[];
}

/** One community at one noise level. */
export interface PersonaBenchDataset {
  /** The `synthetic_data` folder it was read from. */
  directory: string;
  /** Folder name, such as `community_0`. */
  community: string;
  /** Noise level as in the file names, such as `0.5`. */
  noise: string;
  people: PersonaBenchPerson[];
}

/** Options of {@link loadPersonaBench}. */
export interface LoadPersonaBenchOptions {
  /** A release root (holding `eval_data/eval_data_v1/synthetic_data`), or any folder of that path. */
  root: string;
  /** Community number (`0`) or folder name (`community_0`). */
  community: number | string;
  /** Noise level, such as `0.5` or `"0.5"`. */
  noise: number | string;
  /**
   * Most people evaluated, in `eval_info_all.json` order, among those with documents. Default: all with documents
   * (the official script's `num_people=3` first entries are exactly those in the v1 release).
   */
  maxPeople?: number;
}

/** Communities and noise levels found under a release root. */
export interface PersonaBenchListing {
  directory: string;
  communities: { name: string; number: number | undefined; noiseLevels: string[] }[];
}

const valueSchema = z.union([z.string(), z.number(), z.array(z.unknown())]);
const segmentIdSchema = z.union([z.string(), z.number()]).transform(String);
const messageSchema = z.object({ role: z.string(), content: z.string() });
const sessionBase = { session: z.string(), time: z.string(), segment_id: segmentIdSchema };

const conversationFileSchema = z.array(
  z.object({
    Name: z.string(),
    Data: z.array(
      z.object({
        Target_name: z.string().optional(),
        Conversations: z.array(
          z.object({
            ...sessionBase,
            target_name: z.string().optional(),
            conversation: z.array(messageSchema),
          }),
        ),
      }),
    ),
  }),
);
const interactionFileSchema = z.array(
  z.object({
    Name: z.string(),
    Data: z.array(z.object({ ...sessionBase, user_ai_interaction: z.array(messageSchema) })),
  }),
);
const purchaseFileSchema = z.array(
  z.object({
    Name: z.string(),
    Data: z.array(
      z.object({
        ...sessionBase,
        purchase_history: z.array(
          z.object({
            title: z.string(),
            description: z.string().optional(),
            brand: z.string().optional(),
            categories: z.array(z.string()).optional(),
          }),
        ),
      }),
    ),
  }),
);
const evalInfoSchema = z.array(
  z.object({
    Name: z.string(),
    Eval_Info: z.object({
      qa: z.array(
        z.object({
          q_id: z.union([z.string(), z.number()]).transform(String),
          question: z.string(),
          answer: valueSchema,
          type: z.string(),
          difficulty: z.string(),
          outdated_value: valueSchema.nullable().optional(),
        }),
      ),
    }),
  }),
);
const groundTruthSchema = z.array(
  z.object({
    q_id: z.union([z.string(), z.number()]).transform(String),
    segment_id: z.record(z.string(), z.array(segmentIdSchema)),
  }),
);
const socialGraphSchema = z.object({
  nodes: z.array(
    z.object({ properties: z.object({ name: z.string(), persona: z.string().optional() }).partial() }),
  ),
});

const syntheticPath = ['eval_data', 'eval_data_v1', 'synthetic_data'];

/** Finds the `synthetic_data` folder from a release root or any folder along its path. */
export function resolvePersonaBenchDirectory(root: string): string {
  const absolute = resolve(root);
  for (let depth = 0; depth <= syntheticPath.length; depth++) {
    const candidate = join(absolute, ...syntheticPath.slice(depth));
    if (
      existsSync(candidate) &&
      statSync(candidate).isDirectory() &&
      listCommunityFolders(candidate).length > 0
    ) {
      return candidate;
    }
  }
  throw new FileFormatError(
    absolute,
    `No PersonaBench data under ${absolute}: expected ${join(absolute, ...syntheticPath)}/community_N/. ` +
      'Pass the release root (the folder holding eval_data/), for example ../shared/data/personabench.',
  );
}

function listCommunityFolders(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(directory, entry.name, 'eval_info')))
    .map((entry) => entry.name)
    .sort((left, right) => left.localeCompare(right, 'en', { numeric: true }));
}

function listNoiseLevels(communityDirectory: string): string[] {
  const privateDirectory = join(communityDirectory, 'private_data');
  if (!existsSync(privateDirectory)) return [];
  return readdirSync(privateDirectory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith('noise_'))
    .map((entry) => entry.name.slice('noise_'.length))
    .sort((left, right) => Number(left) - Number(right));
}

/** Lists the communities and noise levels of a release. */
export function listPersonaBench(root: string): PersonaBenchListing {
  const directory = resolvePersonaBenchDirectory(root);
  return {
    directory,
    communities: listCommunityFolders(directory).map((name) => {
      const match = /^community_(\d+)$/.exec(name);
      return {
        name,
        number: match ? Number(match[1]) : undefined,
        noiseLevels: listNoiseLevels(join(directory, name)),
      };
    }),
  };
}

const months: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** Parses PersonaBench's `2024/Oct/14/07:44 AM` as UTC epoch milliseconds; undefined when it does not parse. */
export function parsePersonaBenchTime(time: string): number | undefined {
  const match = /^(\d{4})\/([A-Za-z]{3})[a-z]*\/(\d{1,2})\/(\d{1,2}):(\d{2})\s*([AaPp][Mm])?$/.exec(
    time.trim(),
  );
  if (!match) {
    const parsed = Date.parse(time);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  const month = months[match[2]!.toLowerCase()];
  if (month === undefined) return undefined;
  let hour = Number(match[4]);
  const meridiem = match[6]?.toUpperCase();
  if (meridiem === 'AM' && hour === 12) hour = 0;
  if (meridiem === 'PM' && hour < 12) hour += 12;
  return Date.UTC(Number(match[1]), month, Number(match[3]), hour, Number(match[5]));
}

function readJson(path: string): Promise<unknown> {
  return readJsonFile(path, {
    fix: 'Check the PersonaBench layout (see SOURCE.md), or download or copy the file again.',
  });
}

function validate<T>(path: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new FileFormatError(
    path,
    `${path} does not have the PersonaBench v1 layout: at ${issue.path.join('.') || '(root)'}: ${issue.message}. ` +
      'Use the files of the official release unchanged.',
    { cause: result.error },
  );
}

/** Reads one `*_data_all.json`, or the per-person files when the combined one is missing. */
async function readPrivateFile(noiseDirectory: string, baseName: string): Promise<unknown[]> {
  const combined = join(noiseDirectory, `${baseName}_all.json`);
  if (existsSync(combined)) {
    const value = await readJson(combined);
    return Array.isArray(value) ? value : [];
  }
  const people: unknown[] = [];
  for (const entry of readdirSync(noiseDirectory, { withFileTypes: true })) {
    const path = join(noiseDirectory, entry.name, `${baseName}.json`);
    if (entry.isDirectory() && existsSync(path)) people.push(await readJson(path));
  }
  return people;
}

function resolveNoise(communityDirectory: string, noise: number | string): string {
  const levels = listNoiseLevels(communityDirectory);
  const wanted = Number(noise);
  const found = levels.find((level) => level === String(noise) || Number(level) === wanted);
  if (found === undefined) {
    throw new InvalidArgumentError(
      'noise',
      `Noise level ${String(noise)} is not in ${join(communityDirectory, 'private_data')}. ` +
        `Available: ${levels.join(', ') || '(none)'}.`,
    );
  }
  return found;
}

function resolveCommunity(directory: string, community: number | string): string {
  const name =
    typeof community === 'number' || /^\d+$/.test(community) ? `community_${community}` : community;
  const folders = listCommunityFolders(directory);
  if (!folders.includes(name)) {
    throw new InvalidArgumentError(
      'community',
      `Community "${name}" is not in ${directory}. Available: ${folders.join(', ') || '(none)'}.`,
    );
  }
  return name;
}

function rawOf(value: unknown): Readonly<Record<string, unknown>> {
  return value as Readonly<Record<string, unknown>>;
}

/**
 * Loads one community at one noise level from the official release layout: every person with documents,
 * their sessions (conversations, user–AI interactions, purchases; one chunk per `segment_id`) and their
 * questions with evidence. The QA evidence file and the private data are always read at the same noise
 * level, because segment ids are renumbered per level.
 */
export async function loadPersonaBench(options: LoadPersonaBenchOptions): Promise<PersonaBenchDataset> {
  const directory = resolvePersonaBenchDirectory(options.root);
  const community = resolveCommunity(directory, options.community);
  const communityDirectory = join(directory, community);
  const noise = resolveNoise(communityDirectory, options.noise);
  const noiseDirectory = join(communityDirectory, 'private_data', `noise_${noise}`);
  const evalInfoPath = join(communityDirectory, 'eval_info', 'eval_info_all.json');
  const groundTruthPath = join(communityDirectory, 'eval_info', `qa_gt_context_all_noise_${noise}.json`);

  const [evalInfoRaw, groundTruthRaw, conversationRaw, interactionRaw, purchaseRaw] = await Promise.all([
    readJson(evalInfoPath),
    readJson(groundTruthPath),
    readPrivateFile(noiseDirectory, 'conversation_data'),
    readPrivateFile(noiseDirectory, 'user_ai_interaction_data'),
    readPrivateFile(noiseDirectory, 'purchase_history_data'),
  ]);
  const evalInfo = validate(evalInfoPath, evalInfoSchema, evalInfoRaw);
  const groundTruth = validate(groundTruthPath, groundTruthSchema, groundTruthRaw);
  const conversations = validate(
    `${noiseDirectory}/conversation_data`,
    conversationFileSchema,
    conversationRaw,
  );
  const interactions = validate(
    `${noiseDirectory}/user_ai_interaction_data`,
    interactionFileSchema,
    interactionRaw,
  );
  const purchases = validate(`${noiseDirectory}/purchase_history_data`, purchaseFileSchema, purchaseRaw);

  const personas = new Map<string, string>();
  const graphPath = join(communityDirectory, 'graph_json', 'social_graph.json');
  if (existsSync(graphPath)) {
    const graph = socialGraphSchema.safeParse(await readJson(graphPath));
    if (graph.success) {
      for (const node of graph.data.nodes) {
        const { name, persona } = node.properties;
        if (name !== undefined && persona !== undefined) personas.set(name, persona);
      }
    }
  }

  const sessionsByPerson = new Map<string, PersonaBenchSession[]>();
  const add = (person: string, session: PersonaBenchSession) => {
    let list = sessionsByPerson.get(person);
    if (!list) {
      list = [];
      sessionsByPerson.set(person, list);
    }
    list.push(session);
  };
  conversations.forEach((entry, personIndex) => {
    entry.Data.forEach((thread, threadIndex) => {
      thread.Conversations.forEach((session, sessionIndex) => {
        const targetName = session.target_name ?? thread.Target_name;
        add(entry.Name, {
          segmentId: session.segment_id,
          kind: 'conversation',
          person: entry.Name,
          session: session.session,
          time: session.time,
          timestamp: parsePersonaBenchTime(session.time),
          ...(targetName === undefined ? {} : { targetName }),
          messages: session.conversation,
          products: [],
          raw: rawOf(
            (conversationRaw[personIndex] as { Data: { Conversations: unknown[] }[] }).Data[threadIndex]!
              .Conversations[sessionIndex],
          ),
        });
      });
    });
  });
  interactions.forEach((entry, personIndex) => {
    entry.Data.forEach((session, sessionIndex) => {
      add(entry.Name, {
        segmentId: session.segment_id,
        kind: 'user-ai-interaction',
        person: entry.Name,
        session: session.session,
        time: session.time,
        timestamp: parsePersonaBenchTime(session.time),
        messages: session.user_ai_interaction,
        products: [],
        raw: rawOf((interactionRaw[personIndex] as { Data: unknown[] }).Data[sessionIndex]),
      });
    });
  });
  purchases.forEach((entry, personIndex) => {
    entry.Data.forEach((session, sessionIndex) => {
      add(entry.Name, {
        segmentId: session.segment_id,
        kind: 'purchase-history',
        person: entry.Name,
        session: session.session,
        time: session.time,
        timestamp: parsePersonaBenchTime(session.time),
        messages: [],
        products: session.purchase_history.map((product) => ({
          title: product.title,
          ...(product.description === undefined ? {} : { description: product.description }),
          ...(product.brand === undefined ? {} : { brand: product.brand }),
          ...(product.categories === undefined ? {} : { categories: product.categories }),
        })),
        raw: rawOf((purchaseRaw[personIndex] as { Data: unknown[] }).Data[sessionIndex]),
      });
    });
  });

  const evidenceById = new Map(groundTruth.map((entry) => [entry.q_id, entry.segment_id]));
  const people: PersonaBenchPerson[] = [];
  for (const entry of evalInfo) {
    const sessions = sessionsByPerson.get(entry.Name);
    if (!sessions || sessions.length === 0) continue;
    if (options.maxPeople !== undefined && people.length >= options.maxPeople) break;
    const questions = entry.Eval_Info.qa.map((qa): PersonaBenchQuestion => {
      const evidence = evidenceById.get(qa.q_id);
      if (!evidence) {
        throw new FileFormatError(
          groundTruthPath,
          `Question ${qa.q_id} of ${entry.Name} has no evidence in ${groundTruthPath}. Use the eval_info and private_data of one release.`,
        );
      }
      return {
        qId: qa.q_id,
        person: entry.Name,
        question: qa.question,
        type: qa.type,
        difficulty: qa.difficulty,
        answer: qa.answer,
        outdatedValue: qa.outdated_value ?? null,
        evidence,
      };
    });
    const persona = personas.get(entry.Name);
    people.push({ name: entry.Name, ...(persona === undefined ? {} : { persona }), sessions, questions });
  }
  if (people.length === 0) {
    throw new FileFormatError(
      noiseDirectory,
      `No person of ${evalInfoPath} has sessions in ${noiseDirectory}. Check that private_data/noise_${noise} is complete.`,
    );
  }
  return { directory, community, noise, people };
}
