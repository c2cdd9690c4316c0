import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { ProviderError, UserplugError } from '@userplug/core';
import {
  type ProviderErrorContext,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
} from '@userplug/core/internal';

/** What the error message may name: the model called and the retries the SDK was allowed. */
export type AnthropicErrorContext = ProviderErrorContext;

const provider = 'anthropic';
const identity = { provider, vendor: 'Anthropic', baseUrlVariable: 'ANTHROPIC_BASE_URL' };

function apiMessage(error: APIError): string {
  if (error.apiMessage) return error.apiMessage;
  const body = error.error as { error?: { message?: unknown }; message?: unknown } | undefined;
  const message = body?.error?.message ?? body?.message;
  return typeof message === 'string' ? message : error.message;
}

/**
 * Turns whatever the Anthropic SDK threw into a {@link ProviderError} with the status, the request
 * id, whether retrying can help, and the fix. The SDK has already retried what it could; a
 * user's abort is passed through untouched.
 */
export function normalizeAnthropicError(error: unknown, context: AnthropicErrorContext): unknown {
  if (UserplugError.isInstance(error) || error instanceof APIUserAbortError) return error;
  const retries = retriesSpent(context.maxRetries);
  if (error instanceof APIConnectionTimeoutError)
    return transportFailure('timeout', identity, context.maxRetries, error);
  if (error instanceof APIConnectionError)
    return transportFailure('connection', identity, context.maxRetries, error);
  if (error instanceof APIError) {
    const status = error.status;
    const requestId = error.requestID ?? error.headers?.get('request-id') ?? undefined;
    const details = {
      provider,
      ...(status === undefined ? {} : { status }),
      ...(requestId ? { requestId } : {}),
    };
    const reason = apiMessage(error);
    const where = `${status === undefined ? 'Anthropic sent an error' : `Anthropic answered ${status}`}${requestId ? ` (request ${requestId})` : ''}`;
    const fail = (message: string, retryable: boolean) =>
      new ProviderError(`${where}: ${message}`, { ...details, retryable }, { cause: error });
    if (status === undefined) {
      return fail(`${reason}; the stream was cut off. Try again.`, error.type !== 'invalid_request_error');
    }
    if (status === 401) {
      return fail(
        `the API key was rejected (${reason}). Pass a valid \`apiKey\` or set ANTHROPIC_API_KEY.`,
        false,
      );
    }
    if (status === 403) {
      return fail(
        `access denied (${reason}). Check that the key's workspace may use model "${context.model}".`,
        false,
      );
    }
    if (status === 404) {
      return fail(`not found (${reason}). Check \`model\` ("${context.model}") and \`baseURL\`.`, false);
    }
    if (status === 413) {
      return fail(`the request is too large (${reason}). Lower \`budget\` or shorten the prompt.`, false);
    }
    if (status === 429) {
      const wait = retryAfterSeconds(error.headers);
      return fail(
        `rate limited ${retries}${wait === undefined ? '' : `; the API asked to wait ${wait} s`} (${reason}). Slow down or try again later.`,
        true,
      );
    }
    if (status >= 500 || status === 408 || status === 409) {
      return fail(
        `${status === 529 ? 'overloaded' : 'server error'} ${retries} (${reason}). Try again later.`,
        true,
      );
    }
    return fail(
      `the request was refused (${reason}). Fix the request; sending it again will fail the same way.`,
      false,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError(
    `Anthropic sent a response that could not be read (${message}). Check \`baseURL\` points at the Anthropic Messages API.`,
    { provider, retryable: false },
    { cause: error },
  );
}
