import { UserplugError } from '@userplug/core';

/** Where a command writes; tests pass buffers instead of the process streams. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  /** `isTTY`: whether progress may redraw a line (true on a terminal). */
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One command of a program, such as `userplug personalize`. */
export interface CliCommand {
  /** One line in the program's list of commands. */
  summary: string;
  /** The command's help: printed for `--help` and after a usage mistake. */
  usage: string;
  /** Runs the command with the arguments after its name. Throws a {@link UsageError} for a usage mistake. */
  run(args: string[], io: CliIo): Promise<void>;
}

/** A command-line program: its name, what it is for, and its commands by name. */
export interface CliProgram {
  /** The executable's name, such as `userplug`. */
  name: string;
  /** One line after the name in the main help. */
  description: string;
  commands: Readonly<Record<string, CliCommand>>;
}

function mainUsage(program: CliProgram): string {
  const lines = Object.entries(program.commands).map(
    ([name, command]) => `  ${name.padEnd(14)}${command.summary}`,
  );
  return (
    `${program.name}: ${program.description}\n\nUsage: ${program.name} <command> [options]\n\n` +
    `Commands:\n${lines.join('\n')}\n\nRun \`${program.name} <command> --help\` for a command's options.\n`
  );
}

// node:util parseArgs reports unknown or malformed options with these codes: they are usage mistakes too.
function isArgumentParseError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/**
 * Runs one command of a program with the arguments (without `node` and the script) and returns the exit
 * code: 0 on success, 1 when the operation failed with a {@link UserplugError} (its message says the fix),
 * 2 for a usage mistake (the message and the command's usage go to stderr). Other errors are bugs: rethrown.
 */
export async function runCommandLine(
  program: CliProgram,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainUsage(program));
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(program.commands, name) ? program.commands[name] : undefined;
  if (!command) {
    io.stderr.write(`${program.name}: unknown command "${name}".\n\n${mainUsage(program)}`);
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
    if (error instanceof UsageError || isArgumentParseError(error)) {
      io.stderr.write(`${program.name} ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (UserplugError.isInstance(error)) {
      io.stderr.write(`${program.name} ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
