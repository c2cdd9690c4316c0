import { AbortError, UserplugError } from '@userplug/core';
import {
  type ProviderErrorContext,
  type ProviderIdentity,
  providerFailure,
  transportFailure,
  unreadableResponse,
} from '@userplug/provider-utils';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** OpenAI, for the messages of its errors. */
export const openAIIdentity: ProviderIdentity = {
  provider: 'openai',
  vendor: 'OpenAI',
  apiKeyVariable: 'OPENAI_API_KEY',
  baseUrlVariable: 'OPENAI_BASE_URL',
  api: 'an OpenAI-compatible API',
};

function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

/**
 * Turns whatever the OpenAI SDK threw into a `ProviderError` subclass with the status, the request id, the
 * wait the API asked for, and the fix. The SDK has already retried what it could.
 */
export function normalizeOpenAIError(error: unknown, context: ProviderErrorContext): unknown {
  if (UserplugError.isInstance(error)) return error;
  if (error instanceof APIUserAbortError) {
    return new AbortError('The OpenAI request was aborted.', {}, { cause: error });
  }
  if (error instanceof APIConnectionTimeoutError)
    return transportFailure('timeout', openAIIdentity, context, error);
  if (error instanceof APIConnectionError)
    return transportFailure('connection', openAIIdentity, context, error);
  if (error instanceof APIError) {
    const requestId = error.requestID ?? error.headers?.get('x-request-id') ?? undefined;
    return providerFailure(
      openAIIdentity,
      context,
      {
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(requestId ? { requestId } : {}),
        ...(error.headers ? { headers: error.headers } : {}),
        reason: apiMessage(error),
        quotaExhausted: error.code === 'insufficient_quota',
      },
      error,
    );
  }
  return unreadableResponse(openAIIdentity, error);
}
