import { ProviderError, UserplugError } from '@userplug/core';
import {
  type ProviderErrorContext,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
} from '@userplug/core/internal';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** What the error message may name: the model called and the retries the SDK was allowed. */
export type OpenAIErrorContext = ProviderErrorContext;

const provider = 'openai';
const identity = { provider, vendor: 'OpenAI', baseUrlVariable: 'OPENAI_BASE_URL' };

function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

/**
 * Turns whatever the OpenAI SDK threw into a {@link ProviderError} with the status, the request
 * id, whether retrying can help, and the fix. The SDK has already retried what it could; a
 * user's abort is passed through untouched.
 */
export function normalizeOpenAIError(error: unknown, context: OpenAIErrorContext): unknown {
  if (UserplugError.isInstance(error) || error instanceof APIUserAbortError) return error;
  const retries = retriesSpent(context.maxRetries);
  if (error instanceof APIConnectionTimeoutError)
    return transportFailure('timeout', identity, context.maxRetries, error);
  if (error instanceof APIConnectionError)
    return transportFailure('connection', identity, context.maxRetries, error);
  if (error instanceof APIError) {
    const status = error.status;
    const requestId = error.requestID ?? error.headers?.get('x-request-id') ?? undefined;
    const details = {
      provider,
      ...(status === undefined ? {} : { status }),
      ...(requestId ? { requestId } : {}),
    };
    const reason = apiMessage(error);
    const where = `${status === undefined ? 'OpenAI sent an error' : `OpenAI answered ${status}`}${requestId ? ` (request ${requestId})` : ''}`;
    const fail = (message: string, retryable: boolean) =>
      new ProviderError(`${where}: ${message}`, { ...details, retryable }, { cause: error });
    if (status === undefined) {
      return new ProviderError(
        `${where} mid-stream (${reason}); the answer was cut off. Try again.`,
        { ...details, retryable: true },
        { cause: error },
      );
    }
    if (status === 401) {
      return fail(
        `the API key was rejected (${reason}). Pass a valid \`apiKey\` or set OPENAI_API_KEY.`,
        false,
      );
    }
    if (status === 403) {
      return fail(
        `access denied (${reason}). Check that the key's project may use model "${context.model}".`,
        false,
      );
    }
    if (status === 404) {
      return fail(`not found (${reason}). Check \`model\` ("${context.model}") and \`baseURL\`.`, false);
    }
    if (status === 429) {
      if (error.code === 'insufficient_quota') {
        return fail(
          `the account is out of quota (${reason}). Add credits or raise the limit on the billing page.`,
          false,
        );
      }
      const wait = retryAfterSeconds(error.headers);
      return fail(
        `rate limited ${retries}${wait === undefined ? '' : `; the API asked to wait ${wait} s`} (${reason}). Slow down or try again later.`,
        true,
      );
    }
    if (status >= 500 || status === 408 || status === 409) {
      return fail(`server error ${retries} (${reason}). Try again later.`, true);
    }
    return fail(
      `the request was refused (${reason}). Fix the request; sending it again will fail the same way.`,
      false,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError(
    `OpenAI sent a response that could not be read (${message}). Check \`baseURL\` points at an OpenAI-compatible API.`,
    { provider, retryable: false },
    { cause: error },
  );
}
