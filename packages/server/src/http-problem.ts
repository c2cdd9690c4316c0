import {
  EncoderError,
  InvalidArgumentError,
  InvalidHistoryError,
  StoreError,
  UserplugError,
} from '@userplug/core';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** An error answered as `{ error: { type, message, ...details } }` with an HTTP status. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/**
 * Whether a store failed because its database could not be reached or was busy (worth retrying), rather than
 * because of what the store holds: PostgreSQL's connection and shutdown errors, network errors, a busy SQLite.
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++) {
    const code = String((cause as { code?: unknown }).code ?? '');
    // SQLSTATE classes 08 (connection exception), 57 (operator intervention: shutdown) and 53 (resources).
    if (unreachableCodes.has(code) || /^(08|57P|53)/.test(code)) return true;
    if (
      /connection terminated|connection timeout|terminating connection|connection error|not queryable/i.test(
        String((cause as Error).message),
      )
    ) {
      return true;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

function validationProblem(error: unknown): HttpProblem | undefined {
  if (!hasZodFastifySchemaValidationErrors(error)) return undefined;
  const issue = error.validation[0]!;
  const where = `${error.validationContext ?? 'request'}${issue.instancePath.replaceAll('/', '.')}`;
  const zodIssue = issue.params.issue as { code?: string; maximum?: unknown } | undefined;
  if (zodIssue?.code === 'too_big' && issue.instancePath === '/items' && error.validationContext === 'body') {
    return new HttpProblem(
      413,
      'payload-too-large',
      `body.items holds more items than one request may (${String(zodIssue.maximum)}). Send the history in batches of at most that many items.`,
    );
  }
  return new HttpProblem(400, 'invalid-request', `${where}: ${issue.message}.`, { field: where });
}

/** The answer for any error a route, hook or Fastify itself threw. */
export function toHttpProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const validation = validationProblem(error);
  if (validation) return validation;
  if (InvalidHistoryError.isInstance(error)) {
    return new HttpProblem(400, 'invalid-history', error.message, {
      ...(error.itemIndex === undefined ? {} : { itemIndex: error.itemIndex }),
      ...(error.itemId === undefined ? {} : { itemId: error.itemId }),
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
  if (InvalidArgumentError.isInstance(error)) {
    return new HttpProblem(400, 'invalid-request', error.message, { field: error.argument });
  }
  if ((StoreError.isInstance(error) && isStoreUnavailable(error)) || EncoderError.isInstance(error)) {
    return new HttpProblem(
      503,
      'unavailable',
      `The ${EncoderError.isInstance(error) ? 'encoder' : 'store'} is unavailable: nothing of this request was done. Retry in a moment.`,
      {},
      { 'retry-after': '1' },
    );
  }
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const status = Number((error as { statusCode?: unknown } | null)?.statusCode);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpProblem(
      413,
      'payload-too-large',
      'The request body is over the server’s body limit. Send the history in smaller batches.',
    );
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new HttpProblem(
      415,
      'unsupported-media-type',
      'The request body must be JSON: send `content-type: application/json`.',
    );
  }
  if (!UserplugError.isInstance(error) && status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, empty body, bad content length): their messages hold no data.
    const message =
      error instanceof SyntaxError
        ? `The body is not valid JSON: ${error.message}`
        : (error as Error).message;
    return new HttpProblem(status, 'invalid-request', message);
  }
  return new HttpProblem(
    500,
    'internal',
    'The server failed to answer this request. Its log has the details; retrying may not help.',
  );
}
