import { readFile } from 'node:fs/promises';
import { FileFormatError } from './userplug-error.js';

/** What {@link readJsonFile} says when the file cannot be used. */
export interface ReadJsonFileOptions {
  /** What the file is, starting the message, such as `Trained artifact`. Default: the path alone. */
  what?: string;
  /** The exact fix, ending the message, such as "Pass the path `userplug train --out` wrote." */
  fix: string;
}

/**
 * Reads and parses a JSON file. A missing or unreadable file, or text that is not JSON, throws a
 * {@link FileFormatError} naming the file, the reason and the fix; validating the value is the caller's.
 */
export async function readJsonFile(path: string, options: ReadJsonFileOptions): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const subject = options.what === undefined ? path : `${options.what} ${path}`;
    throw new FileFormatError(
      path,
      `${subject} could not be read as JSON: ${(error as Error).message}. ${options.fix}`,
      { cause: error },
    );
  }
}
