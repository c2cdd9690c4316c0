import { ProviderError } from './userplug-error.js';

/** Seconds a provider asked the caller to wait (`retry-after-ms` or `retry-after`), when it said. */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds)) return milliseconds / 1000;
  const seconds = Number.parseFloat(headers?.get('retry-after') ?? '');
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** "after 2 retries (raise `maxRetries` to retry more)": the vendor SDK already retried. */
export function retriesSpent(maxRetries: number): string {
  return `after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'} (raise \`maxRetries\` to retry more)`;
}

/** What a hosted adapter's error message may name. */
export interface ProviderErrorContext {
  /** The model called. */
  model: string;
  /** The retries the SDK was allowed, already spent when a retryable error arrives. */
  maxRetries: number;
}

/** Who failed, for {@link transportFailure}. */
export interface ProviderIdentity {
  /** Stable provider id, such as `openai`. */
  provider: string;
  /** Name in messages, such as `OpenAI`. */
  vendor: string;
  /** Environment variable of the base URL, such as `OPENAI_BASE_URL`. */
  baseUrlVariable: string;
}

/** A request that timed out or never reached the provider: always worth retrying later. */
export function transportFailure(
  kind: 'timeout' | 'connection',
  identity: ProviderIdentity,
  maxRetries: number,
  error: Error,
): ProviderError {
  const message =
    kind === 'timeout'
      ? `${identity.vendor} did not answer in time ${retriesSpent(maxRetries)}. Raise \`timeoutMs\` or try again later.`
      : `Could not reach ${identity.vendor} ${retriesSpent(maxRetries)}: ${error.message}. Check the network and \`baseURL\` (or ${identity.baseUrlVariable}).`;
  return new ProviderError(message, { provider: identity.provider, retryable: true }, { cause: error });
}
