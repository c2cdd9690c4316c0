import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { AbortError, UserplugError } from '@userplug/core';
import {
  type ProviderErrorContext,
  type ProviderIdentity,
  providerFailure,
  transportFailure,
  unreadableResponse,
} from '@userplug/provider-utils';

/** Anthropic, for the messages of its errors. */
export const anthropicIdentity: ProviderIdentity = {
  provider: 'anthropic',
  vendor: 'Anthropic',
  apiKeyVariable: 'ANTHROPIC_API_KEY',
  baseUrlVariable: 'ANTHROPIC_BASE_URL',
  api: 'the Anthropic Messages API',
};

/** The HTTP status each error type stands for, to classify an error event inside a stream. */
const statusOfErrorType: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

function apiMessage(error: APIError): string {
  if (error.apiMessage) return error.apiMessage;
  const body = error.error as { error?: { message?: unknown }; message?: unknown } | undefined;
  const message = body?.error?.message ?? body?.message;
  return typeof message === 'string' ? message : error.message;
}

/**
 * Turns whatever the Anthropic SDK threw into a `ProviderError` subclass with the status, the request id, the
 * wait the API asked for, and the fix. The SDK has already retried what it could.
 */
export function normalizeAnthropicError(error: unknown, context: ProviderErrorContext): unknown {
  if (UserplugError.isInstance(error)) return error;
  if (error instanceof APIUserAbortError) {
    return new AbortError('The Anthropic request was aborted.', {}, { cause: error });
  }
  if (error instanceof APIConnectionTimeoutError)
    return transportFailure('timeout', anthropicIdentity, context, error);
  if (error instanceof APIConnectionError)
    return transportFailure('connection', anthropicIdentity, context, error);
  if (error instanceof APIError) {
    const requestId = error.requestID ?? error.headers?.get('request-id') ?? undefined;
    const classifyAs = error.type ? statusOfErrorType[error.type] : undefined;
    return providerFailure(
      anthropicIdentity,
      context,
      {
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(classifyAs === undefined ? {} : { classifyAs }),
        ...(requestId ? { requestId } : {}),
        ...(error.headers ? { headers: error.headers } : {}),
        reason: apiMessage(error),
      },
      error,
    );
  }
  return unreadableResponse(anthropicIdentity, error);
}
