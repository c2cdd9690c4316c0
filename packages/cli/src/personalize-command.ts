import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import {
  createPersonalizer,
  type Encoder,
  type PersonalizeResult,
  personalizeResultToJson,
  readHistoryFile,
  type TiktokenEncoding,
} from '@userplug/core';
import type { SqliteStore } from '@userplug/store-sqlite';
import { chooseEncoder, openCliStore, resolveStorePath, storeOptionHelp } from './cli-store.js';

export const personalizeUsage = `Usage: userplug personalize [--history FILE] --prompt TEXT [options]

Builds the user's query-aware persona from a history file, or from the user's items in the local
store (see \`userplug ingest\`), and prints the personalized prompt, the persona's descriptors, the
top attributions and the token accounting. Offline: no API key, no network.

Options:
  --history FILE       History items, .json (array) or .jsonl (one item per line). Without --store or
                       USERPLUG_STORE they are used for this call only; with either, they are ingested
                       into the store first. Optional when the store holds the user's items.
  --prompt TEXT        The user's prompt. Required.
  --user ID            User id. Default: sample-user.
${storeOptionHelp}
  --budget N           Hard limit on persona tokens (0: no persona). Default: 300.
  --instruction TEXT   Instruction embedded with the prompt, steering what matters.
  --trained FILE       Artifact written by \`userplug train\`: learned query transform and attention settings.
  --tokenizer NAME     o200k_base (GPT-4o and later) or cl100k_base (GPT-4). Default: o200k_base.
  --encoder NAME       use (embedded Universal Sentence Encoder lite) or hashing (lexical, no model).
                       Default: the encoder of the user's stored items, else use.
  --influence          Also compute leave-one-out influence of the top items.
  --json               Print { prompt, messages, persona: { descriptors, evidence, attributions }, usage } as JSON.
  -h, --help           Show this help.
`;

/** Checks a `--budget` value. */
export function parseBudget(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const budget = Number(value);
  if (!Number.isInteger(budget) || budget < 0) {
    throw new UsageError(`--budget must be a whole number of tokens ≥ 0, got "${value}".`);
  }
  return budget;
}

/** Checks a `--tokenizer` value. */
export function chooseTokenizer(name: string): TiktokenEncoding {
  if (name === 'o200k_base' || name === 'cl100k_base') return name;
  throw new UsageError(`--tokenizer must be "o200k_base" or "cl100k_base", got "${name}".`);
}

function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** The human-readable report of one personalization. */
export function formatReport(result: PersonalizeResult, itemTexts: ReadonlyMap<string, string>): string {
  const { persona, usage } = result;
  const rule = '─'.repeat(72);
  const lines = [`Personalized prompt`, rule, result.prompt, rule];
  lines.push(
    `Descriptors: ${persona.descriptors.length > 0 ? persona.descriptors.map((descriptor) => descriptor.phrase).join(', ') : '(none)'}`,
  );
  lines.push('Top attributions (attention weight over all history items):');
  for (const attribution of persona.attributions.slice(0, 5)) {
    const influence =
      attribution.influence === undefined ? '' : `  influence ${attribution.influence.toFixed(4)}`;
    lines.push(
      `  ${attribution.weight.toFixed(3)}  ${attribution.itemId.padEnd(12)} ${oneLine(itemTexts.get(attribution.itemId) ?? '', 60)}${influence}`,
    );
  }
  lines.push(
    `Tokens (${usage.tokenizer}): persona ${usage.personaTokens} of budget ${usage.budget}, ` +
      `history ${usage.historyTokens} in ${usage.historyItems} items, ` +
      `compression ${usage.compression > 0 ? `${usage.compression.toFixed(1)}×` : 'n/a'}.`,
  );
  for (const warning of result.warnings) lines.push(`Warning: ${warning.message}`);
  return `${lines.join('\n')}\n`;
}

/** `userplug personalize`. */
export async function personalizeCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      history: { type: 'string' },
      prompt: { type: 'string' },
      user: { type: 'string', default: 'sample-user' },
      store: { type: 'string' },
      budget: { type: 'string' },
      instruction: { type: 'string' },
      trained: { type: 'string' },
      tokenizer: { type: 'string', default: 'o200k_base' },
      encoder: { type: 'string' },
      influence: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.prompt === undefined) throw new UsageError('--prompt TEXT is required.');
  const budget = parseBudget(values.budget);
  const tokenCounter = chooseTokenizer(values.tokenizer);
  // A history file alone stays in memory, as before; the store is used when asked for or needed.
  const useStore =
    values.history === undefined || values.store !== undefined || process.env.USERPLUG_STORE !== undefined;
  let store: SqliteStore | undefined;
  let encoder: Encoder | undefined;
  if (useStore) {
    const path = resolveStorePath(values.store);
    const ingestHint = `Pass --history FILE, or store the user's history first with \`userplug ingest --user ${values.user} FILE\`.`;
    if (values.history === undefined && !existsSync(path)) {
      throw new UsageError(
        `--history FILE is required: there is no userplug store at ${path}. ${ingestHint}`,
      );
    }
    store = await openCliStore(path, { mustExist: values.history === undefined });
    try {
      const stored = await store.describeUser(values.user);
      if (values.history === undefined && !stored) {
        throw new UsageError(
          `--history FILE is required: user "${values.user}" has no items in ${path}. ${ingestHint}`,
        );
      }
      encoder = chooseEncoder(values.encoder, stored && { userId: values.user, path, ...stored });
    } catch (error) {
      await store.close();
      throw error;
    }
  } else {
    encoder = chooseEncoder(values.encoder, undefined);
  }
  const personalizer = createPersonalizer({
    ...(encoder ? { encoder } : {}),
    ...(store ? { store } : {}),
    ...(budget === undefined ? {} : { budget }),
    ...(values.instruction === undefined ? {} : { instruction: values.instruction }),
    ...(values.trained === undefined ? {} : { trained: values.trained }),
    tokenCounter,
  });
  try {
    if (values.history !== undefined)
      await personalizer.ingest(values.user, await readHistoryFile(values.history));
    const result = await personalizer.personalize({
      userId: values.user,
      prompt: values.prompt,
      influence: values.influence,
    });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(personalizeResultToJson(result), null, 2)}\n`);
      return;
    }
    const items = await personalizer.store.listItems(values.user);
    io.stdout.write(formatReport(result, new Map(items.map((item) => [item.id, item.text]))));
  } finally {
    await personalizer.dispose();
    await store?.close();
    if (encoder) await encoder.dispose();
  }
}
