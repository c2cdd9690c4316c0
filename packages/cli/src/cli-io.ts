import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a command writes; tests pass buffers instead of the process streams. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `parseArgs` (strict by default); a mistake in the arguments becomes a {@link UsageError}. */
export function parseCommandArguments<const Config extends ParseArgsConfig>(
  config: Config,
): ReturnType<typeof parseArgs<Config>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
