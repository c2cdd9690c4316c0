import { type CliCommand, type CliIo, runCommandLine } from '@userplug/cli-kit';
import { forgetCommand, forgetUsage } from './forget-command.js';
import { ingestCommand, ingestUsage } from './ingest-command.js';
import { keysCommand, keysUsage } from './keys-command.js';
import { personalizeCommand, personalizeUsage } from './personalize-command.js';
import { serveCommand, serveUsage } from './serve-command.js';
import { trainCommand, trainUsage } from './train-command.js';

// One entry per command; a new command is a new file registered here.
const commands: Record<string, CliCommand> = {
  personalize: {
    summary:
      'Build a query-aware persona from a history file or the store and print the personalized prompt.',
    usage: personalizeUsage,
    run: personalizeCommand,
  },
  ingest: {
    summary: "Embed a user's history file into the local store (incremental, no LLM call).",
    usage: ingestUsage,
    run: ingestCommand,
  },
  forget: {
    summary: 'Erase everything the local store holds for a user, and verify it is gone.',
    usage: forgetUsage,
    run: forgetCommand,
  },
  train: {
    summary: "Learn the user embedder's query side from histories or LaMP-format data (resumable).",
    usage: trainUsage,
    run: trainCommand,
  },
  serve: {
    summary:
      'Run the HTTP service (tenant API keys, OpenAPI, metrics, the /inspect page) on SQLite or PostgreSQL.',
    usage: serveUsage,
    run: serveCommand,
  },
  keys: {
    summary: 'Create, list or revoke the API keys of `userplug serve`.',
    usage: keysUsage,
    run: keysCommand,
  },
};

/** Runs the CLI with arguments (without `node` and the script); returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommandLine({ name: 'userplug', description: 'plug a user into any LLM.', commands }, argv, io);
}
