import { z } from 'zod';
import { parseWrittenDate } from './parse-written-date.js';
import { InvalidHistoryError } from './userplug-error.js';

/** An ISO 8601 date or date-time string, the form `Date.parse` reads the same everywhere. */
const isoDate = /^[+-]?\d{4,6}-\d{2}(?:-\d{2})?(?:[T ]|$)/;

function parseDateText(text: string): number {
  const trimmed = text.trim();
  if (isoDate.test(trimmed)) return Date.parse(trimmed);
  // Written-out dates are read as UTC, never in the machine's time zone.
  return parseWrittenDate(trimmed) ?? Date.parse(trimmed);
}

const timestampSchema = z.union([z.number(), z.string(), z.date()]).transform((value, context) => {
  const milliseconds =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : parseDateText(value);
  if (!Number.isFinite(milliseconds)) {
    context.addIssue({
      code: 'custom',
      message:
        'is not a date: use epoch milliseconds, an ISO 8601 string ("2023-05-08T13:56:00Z"), a date in words ("1:56 pm on 8 May, 2023") or a Date',
    });
    return z.NEVER;
  }
  return milliseconds;
});

const idSchema = z.union([z.string().min(1).max(512), z.number().finite()]).transform(String);

const historyItemSchema = z.object({
  id: idSchema,
  text: z.string().refine((text) => text.trim().length > 0, 'is empty'),
  kind: z.string().min(1).max(64).optional(),
  timestamp: timestampSchema.optional(),
  rating: z.number().finite().optional(),
  label: z.string().max(256).optional(),
  weight: z.number().finite().nonnegative().optional(),
  speaker: z.string().trim().min(1, 'is empty').max(128).optional(),
  self: z.boolean().optional(),
  conversationId: idSchema.optional(),
  sessionId: idSchema.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/**
 * One thing the user did or wrote, as the app passes it in. Validated at the boundary.
 * `timestamp` accepts epoch milliseconds, an ISO 8601 string or a Date. A chat turn carries `speaker` (who wrote
 * it), `conversationId` and/or `sessionId` (which conversation, and which sitting of it, the turn belongs to: turns
 * with equal ids are read in order, each with its neighbours) and `self: true` when the user wrote it.
 */
export type HistoryItemInput = z.input<typeof historyItemSchema>;

/** A validated history item: ids are strings and timestamps epoch milliseconds. */
export type HistoryItem = z.output<typeof historyItemSchema>;

/** A user's history: an array, any iterable, or an async iterable (for histories too large to hold). */
export type HistorySource = Iterable<HistoryItemInput> | AsyncIterable<HistoryItemInput>;

/** Limits applied while validating history items. */
export interface HistoryLimits {
  /** Longest item text accepted, in characters. Default 200,000. */
  maxItemCharacters?: number;
}

const defaultMaxItemCharacters = 200_000;

function describeId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Validates one raw history item. Throws an {@link InvalidHistoryError} that names the item's
 * position, its id and the field, and says how to fix it.
 */
export function parseHistoryItem(value: unknown, itemIndex: number, limits: HistoryLimits = {}): HistoryItem {
  const itemId = describeId(value);
  const where = `History item ${itemIndex}${itemId === undefined ? '' : ` (id "${itemId}")`}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidHistoryError(
      `${where} is ${Array.isArray(value) ? 'an array' : typeof value}, not an object. Pass items like { id: "1", text: "…" }.`,
      { itemIndex },
    );
  }
  const result = historyItemSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'item';
    const detail = issue.code === 'invalid_type' ? `must be ${issue.expected}` : issue.message;
    throw new InvalidHistoryError(
      `${where}: field "${field}" ${detail}. Fix that item and pass the history again.`,
      { itemIndex, field, ...(itemId === undefined ? {} : { itemId }) },
      { cause: result.error },
    );
  }
  const maxCharacters = limits.maxItemCharacters ?? defaultMaxItemCharacters;
  if (result.data.text.length > maxCharacters) {
    throw new InvalidHistoryError(
      `${where}: field "text" has ${result.data.text.length} characters, over the ${maxCharacters} limit. ` +
        'Split it into several items, or raise `maxItemCharacters`.',
      { itemIndex, itemId: result.data.id, field: 'text' },
    );
  }
  return result.data;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value && typeof value !== 'string';
}

/**
 * Reads a history source in validated batches, so a huge (async) history never has to be held at once.
 * The whole batch is validated before it is yielded.
 */
export async function* readHistoryBatches(
  source: HistorySource,
  batchSize: number,
  limits: HistoryLimits = {},
): AsyncGenerator<HistoryItem[]> {
  if (!isAsyncIterable(source) && !isIterable(source)) {
    throw new InvalidHistoryError(
      `History must be an array or an (async) iterable of items, got ${source === null ? 'null' : typeof source}.`,
    );
  }
  let batch: HistoryItem[] = [];
  let index = 0;
  for await (const value of source as AsyncIterable<unknown>) {
    batch.push(parseHistoryItem(value, index, limits));
    index++;
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
