import { UserplugError } from '@userplug/core';
import { type CliIo, UsageError } from './cli-io.js';
import { lampCommand, lampUsage } from './lamp-command.js';
import { personabenchCommand, personabenchUsage } from './personabench-command.js';
import { reportCommand, reportUsage } from './report-command.js';

interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<void>;
}

const commands: Record<string, Command> = {
  personabench: {
    summary: 'PersonaBench retrieval (Recall@K, NDCG@K) or end-to-end QA with the official scorer.',
    usage: personabenchUsage,
    run: personabenchCommand,
  },
  lamp: {
    summary: 'LaMP tasks 1-7: prompts, baselines, metrics; `lamp download` fetches the data.',
    usage: lampUsage,
    run: lampCommand,
  },
  report: {
    summary: 'Markdown table and self-contained HTML page (charts) from evals/results/*.json.',
    usage: reportUsage,
    run: reportCommand,
  },
};

function mainUsage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(14)}${command.summary}`);
  return `userplug-eval: benchmarks for userplug (PersonaBench, LaMP).\n\nUsage: userplug-eval <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`userplug-eval <command> --help\` for a command's options.\n`;
}

/** Runs the eval CLI with arguments (without `node` and the script); returns the exit code. */
export async function runEvalCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainUsage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`userplug-eval: unknown command "${name}".\n\n${mainUsage()}`);
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
      io.stderr.write(`userplug-eval ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (UserplugError.isInstance(error)) {
      io.stderr.write(`userplug-eval ${name}: ${error.message}\n`);
      return 1;
    }
    // parseArgs reports unknown or malformed options with a code: they are usage mistakes.
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`userplug-eval ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    throw error;
  }
}
