import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { HistoryItemInput, HistorySource } from './history-item.js';
import { FileFormatError } from './userplug-error.js';

async function* readJsonLines(path: string): AsyncGenerator<unknown> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim().length === 0) continue;
    try {
      yield JSON.parse(line);
    } catch (error) {
      lines.close();
      throw new FileFormatError(
        path,
        `${path}, line ${lineNumber}: not valid JSON (${(error as Error).message}). Each line of a .jsonl file must be one JSON object.`,
        { cause: error },
      );
    }
  }
}

async function readJsonArray(path: string): Promise<unknown[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new FileFormatError(path, `${path} is not valid JSON (${(error as Error).message}).`, {
      cause: error,
    });
  }
  if (Array.isArray(parsed)) return parsed;
  for (const key of ['items', 'history'] as const) {
    const value = (parsed as Record<string, unknown> | null)?.[key];
    if (Array.isArray(value)) return value;
  }
  throw new FileFormatError(
    path,
    `${path} must hold an array of history items, or an object with an "items" or "history" array.`,
  );
}

/**
 * Reads a history file: `.jsonl` (one item per line, streamed) or `.json` (an array, or
 * `{ "items": [...] }`). Items are validated later, when ingested.
 */
export async function readHistoryFile(path: string): Promise<HistorySource> {
  try {
    await stat(path);
  } catch (error) {
    throw new FileFormatError(
      path,
      `History file ${path} does not exist or cannot be read. Check the path.`,
      {
        cause: error,
      },
    );
  }
  // Typed as a history source; every item is validated when it is ingested.
  if (path.endsWith('.jsonl') || path.endsWith('.ndjson'))
    return readJsonLines(path) as AsyncIterable<HistoryItemInput>;
  if (path.endsWith('.json')) return (await readJsonArray(path)) as HistoryItemInput[];
  throw new FileFormatError(path, `History file ${path} must end in .json or .jsonl.`);
}
