import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { createPersonalizer, type IngestResult, readHistoryFile } from '@userplug/core';
import { chooseEncoder, openCliStore, resolveStorePath, storeOptionHelp } from './cli-store.js';
import { chooseTokenizer } from './personalize-command.js';

export const ingestUsage = `Usage: userplug ingest --user ID [options] FILE [FILE ...]

Validates, embeds (no LLM call) and stores a user's history items in the local SQLite store, so that
\`userplug personalize --user ID --prompt TEXT\` works without --history. Incremental: unchanged items
are skipped, changed ones replaced by id; each batch is stored all or nothing, so an interrupted
ingest can simply be run again.

Options:
  --user ID            User id. Required.
${storeOptionHelp}
  --encoder NAME       use (embedded Universal Sentence Encoder lite) or hashing (lexical, no model).
                       Default: the encoder of the user's stored items, else use.
  --tokenizer NAME     o200k_base or cl100k_base: counts the stored items' tokens. Default: o200k_base.
  --json               Print { store, files: [{ file, ...counts }], items } as JSON.
  -h, --help           Show this help.
`;

/** \`userplug ingest\`. */
export async function ingestCommand(args: string[], io: CliIo): Promise<void> {
  const parsed = parseArgs({
    args,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      store: { type: 'string' },
      encoder: { type: 'string' },
      tokenizer: { type: 'string', default: 'o200k_base' },
      json: { type: 'boolean', default: false },
    },
  });
  const { values, positionals: files } = parsed;
  if (values.user === undefined || values.user.length === 0) throw new UsageError('--user ID is required.');
  if (files.length === 0) throw new UsageError('Name at least one history FILE (.json or .jsonl).');
  const tokenCounter = chooseTokenizer(values.tokenizer);
  const path = resolveStorePath(values.store);
  const store = await openCliStore(path, { mustExist: false });
  try {
    const stored = await store.describeUser(values.user);
    const encoder = chooseEncoder(values.encoder, stored && { userId: values.user, path, ...stored });
    const personalizer = createPersonalizer({ ...(encoder ? { encoder } : {}), store, tokenCounter });
    const results: (IngestResult & { file: string })[] = [];
    try {
      for (const file of files) {
        results.push({ file, ...(await personalizer.ingest(values.user, await readHistoryFile(file))) });
      }
    } finally {
      await personalizer.dispose();
      if (encoder) await encoder.dispose();
    }
    const items = await store.countItems(values.user);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ store: path, files: results, items }, null, 2)}\n`);
      return;
    }
    for (const result of results) {
      io.stdout.write(
        `${result.file}: ${result.received} items read, ${result.inserted} new, ${result.updated} updated, ${result.unchanged} unchanged; ` +
          `${result.embeddedTexts} texts embedded, ${result.reusedTexts} reused, in ${(result.durationMs / 1000).toFixed(2)} s.\n`,
      );
    }
    io.stdout.write(`User "${values.user}" has ${items} items in ${path}.\n`);
  } finally {
    await store.close();
  }
}
