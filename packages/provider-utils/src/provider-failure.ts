import {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  type ProviderErrorDetails,
  RateLimitError,
} from '@userplug/core';

/** Who failed, for the messages of the errors built here. */
export interface ProviderIdentity {
  /** Stable provider id, such as `openai`. */
  provider: string;
  /** Name in messages, such as `OpenAI`. */
  vendor: string;
  /** Environment variable of the API key, such as `OPENAI_API_KEY`. */
  apiKeyVariable: string;
  /** Environment variable of the base URL, such as `OPENAI_BASE_URL`. */
  baseUrlVariable: string;
  /** What `baseURL` must point at, such as `an OpenAI-compatible API`. */
  api: string;
}

/** What a provider error's message may name. */
export interface ProviderErrorContext {
  /** The model called. */
  modelId: string;
  /** The retries the SDK was allowed, already spent when a retryable error arrives. */
  maxRetries: number;
}

/** A failure the provider reported. */
export interface ReportedFailure {
  /** HTTP status; absent for an error event inside a stream that had started with 200. */
  status?: number;
  /** For an error event inside a stream: the status its error type stands for (`overloaded_error` → 529), choosing the error class. */
  classifyAs?: number;
  /** The provider's request id. */
  requestId?: string;
  /** Response headers (for `retry-after`). */
  headers?: Headers;
  /** The provider's own explanation. */
  reason: string;
  /** A 429 for an exhausted balance rather than a rate (OpenAI `insufficient_quota`): retrying cannot help. */
  quotaExhausted?: boolean;
}

/**
 * Seconds a provider asked the caller to wait: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
 * date (counted from `now`, in epoch milliseconds). Undefined when it did not say.
 */
export function retryAfterSeconds(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds / 1000;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - now) / 1000) : undefined;
}

/** "after 2 retries (raise `maxRetries` to retry more)": the vendor SDK already retried. */
export function retriesSpent(maxRetries: number): string {
  return `after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'} (raise \`maxRetries\` to retry more)`;
}

/**
 * The {@link ProviderError} subclass for a failure the provider reported: 401 authentication, 403 permission,
 * 404 not found, 429 rate limit (with `retryAfterSeconds`), 408 connection, 409, 5xx and 529 overload, any other
 * status a bad request; an unclassified error inside a stream is a retryable `ProviderError`. The message says
 * what failed, with the status and request id, and the fix.
 */
export function providerFailure(
  identity: ProviderIdentity,
  context: ProviderErrorContext,
  failure: ReportedFailure,
  cause: unknown,
): ProviderError {
  const { status, requestId, reason } = failure;
  const inStream = status === undefined;
  const where =
    (inStream
      ? `${identity.vendor} sent an error mid-stream, cutting the answer off`
      : `${identity.vendor} answered ${status}`) + (requestId ? ` (request ${requestId})` : '');
  const retries = inStream ? '' : ` ${retriesSpent(context.maxRetries)}`;
  const details: ProviderErrorDetails = {
    provider: identity.provider,
    ...(status === undefined ? {} : { status }),
    ...(requestId ? { requestId } : {}),
  };
  const options = { cause };
  const code = status ?? failure.classifyAs;
  const model = context.modelId;
  if (code === undefined) {
    return new ProviderError(`${where}: ${reason}. Try again.`, { ...details, retryable: true }, options);
  }
  if (code === 401) {
    return new AuthenticationError(
      `${where}: the API key was rejected (${reason}). Pass a valid \`apiKey\` or set ${identity.apiKeyVariable}.`,
      details,
      options,
    );
  }
  if (code === 403) {
    return new PermissionDeniedError(
      `${where}: access denied (${reason}). Check that the key may use model "${model}".`,
      details,
      options,
    );
  }
  if (code === 404) {
    return new NotFoundError(
      `${where}: not found (${reason}). Check \`model\` ("${model}") and \`baseURL\` (or ${identity.baseUrlVariable}).`,
      details,
      options,
    );
  }
  if (code === 429) {
    if (failure.quotaExhausted) {
      return new RateLimitError(
        `${where}: the account is out of quota (${reason}). Add credits or raise the limit on the billing page.`,
        { ...details, retryable: false },
        options,
      );
    }
    const wait = retryAfterSeconds(failure.headers);
    return new RateLimitError(
      `${where}: rate limited${retries}${wait === undefined ? '' : `; the API asked to wait ${wait} s`} (${reason}). Slow down or try again later.`,
      { ...details, ...(wait === undefined ? {} : { retryAfterSeconds: wait }) },
      options,
    );
  }
  if (code === 408) {
    return new ConnectionError(
      `${where}: the request timed out${retries} (${reason}). Try again later.`,
      details,
      options,
    );
  }
  if (code >= 500 || code === 409) {
    const wait = retryAfterSeconds(failure.headers);
    return new OverloadedError(
      `${where}: ${code === 529 ? 'overloaded' : 'server error'}${retries} (${reason}). Try again later.`,
      { ...details, ...(wait === undefined ? {} : { retryAfterSeconds: wait }) },
      options,
    );
  }
  if (code === 413) {
    return new BadRequestError(
      `${where}: the request is too large (${reason}). Lower \`budget\` or shorten the prompt.`,
      details,
      options,
    );
  }
  return new BadRequestError(
    `${where}: the request was refused (${reason}). Fix the request; sending it again will fail the same way.`,
    details,
    options,
  );
}

/** A request that timed out or never reached the provider: always worth retrying later. */
export function transportFailure(
  kind: 'timeout' | 'connection',
  identity: ProviderIdentity,
  context: ProviderErrorContext,
  error: Error,
): ConnectionError {
  const retries = retriesSpent(context.maxRetries);
  const message =
    kind === 'timeout'
      ? `${identity.vendor} did not answer in time ${retries}. Raise \`timeoutMs\` or try again later.`
      : `Could not reach ${identity.vendor} ${retries}: ${error.message}. Check the network and \`baseURL\` (or ${identity.baseUrlVariable}).`;
  return new ConnectionError(message, { provider: identity.provider }, { cause: error });
}

/** A response the adapter cannot use: `detail` says what was wrong, `format` names the wire format expected. */
export function malformedResponse(
  identity: ProviderIdentity,
  format: string,
  detail: string,
  cause?: unknown,
): BadRequestError {
  return new BadRequestError(
    `${identity.vendor} sent a response that does not match the ${format} format (${detail}). Check \`baseURL\` points at ${identity.api}.`,
    { provider: identity.provider },
    cause === undefined ? {} : { cause },
  );
}

/** Anything else the vendor SDK threw (a body that is not JSON, a broken stream). */
export function unreadableResponse(identity: ProviderIdentity, error: unknown): BadRequestError {
  const message = error instanceof Error ? error.message : String(error);
  return new BadRequestError(
    `${identity.vendor} sent a response that could not be read (${message}). Check \`baseURL\` points at ${identity.api}.`,
    { provider: identity.provider },
    { cause: error },
  );
}
