import {
  ProviderError,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
  UserplugError,
} from '@userplug/core';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** What the error message may name. */
export interface OpenAIErrorContext {
  /** The model called. */
  model: string;
  /** The retries the SDK was allowed, already spent when a retryable error arrives. */
  maxRetries: number;
}

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
    if (status === 401) {
      return new ProviderError(
        `${where}: the API key was rejected (${reason}). Pass a valid \`apiKey\` or set OPENAI_API_KEY.`,
        { ...details, retryable: false },
        { cause: error },
      );
    }
    if (status === 403) {
      return new ProviderError(
        `${where}: access denied (${reason}). Check that the key's project may use model "${context.model}".`,
        { ...details, retryable: false },
        { cause: error },
      );
    }
    if (status === 404) {
      return new ProviderError(
        `${where}: not found (${reason}). Check \`model\` ("${context.model}") and \`baseURL\`.`,
        { ...details, retryable: false },
        { cause: error },
      );
    }
    if (status === 429) {
      if (error.code === 'insufficient_quota') {
        return new ProviderError(
          `${where}: the account is out of quota (${reason}). Add credits or raise the limit on the billing page.`,
          { ...details, retryable: false },
          { cause: error },
        );
      }
      const wait = retryAfterSeconds(error.headers);
      return new ProviderError(
        `${where}: rate limited ${retries}${wait === undefined ? '' : `; the API asked to wait ${wait} s`} (${reason}). Slow down or try again later.`,
        { ...details, retryable: true },
        { cause: error },
      );
    }
    if (status === undefined) {
      return new ProviderError(
        `${where} mid-stream (${reason}); the answer was cut off. Try again.`,
        { ...details, retryable: true },
        { cause: error },
      );
    }
    if (status >= 500 || status === 408 || status === 409) {
      return new ProviderError(
        `${where}: server error ${retries} (${reason}). Try again later.`,
        { ...details, retryable: true },
        { cause: error },
      );
    }
    return new ProviderError(
      `${where}: the request was refused (${reason}). Fix the request; sending it again will fail the same way.`,
      { ...details, retryable: false },
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError(
    `OpenAI sent a response that could not be read (${message}). Check \`baseURL\` points at an OpenAI-compatible API.`,
    { provider, retryable: false },
    { cause: error },
  );
}
