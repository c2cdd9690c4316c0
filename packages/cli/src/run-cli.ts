import { UserplugError } from '@userplug/core';
import { type CliIo, UsageError } from './cli-io.js';
import { forgetCommand, forgetUsage } from './forget-command.js';
import { ingestCommand, ingestUsage } from './ingest-command.js';
import { keysCommand, keysUsage } from './keys-command.js';
import { personalizeCommand, personalizeUsage } from './personalize-command.js';
import { serveCommand, serveUsage } from './serve-command.js';
import { trainCommand, trainUsage } from './train-command.js';

interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<void>;
}

const commands: Record<string, Command> = {
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

function mainUsage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(14)}${command.summary}`);
  return `userplug: plug a user into any LLM.\n\nUsage: userplug <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`userplug <command> --help\` for a command's options.\n`;
}

/** Runs the CLI with arguments (without `node` and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainUsage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`userplug: unknown command "${name}".\n\n${mainUsage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  try {
    await command.run(rest, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`userplug ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (UserplugError.isInstance(error)) {
      io.stderr.write(`userplug ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
