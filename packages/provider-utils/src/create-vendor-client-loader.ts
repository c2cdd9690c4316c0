import { InvalidArgumentError } from '@userplug/core';
import { requireWholeNumber } from './validate-settings.js';

/** Options of {@link loadApiKey}. */
export interface LoadApiKeyOptions {
  /** The `apiKey` setting, when given. */
  apiKey: string | undefined;
  /** The environment variable read without it, such as `OPENAI_API_KEY`. */
  environmentVariable: string;
  /** Name in the message, such as `OpenAI`. */
  vendor: string;
}

/** The API key from the setting, else the environment; a missing one throws with the fix. */
export function loadApiKey(options: LoadApiKeyOptions): string {
  const apiKey = options.apiKey ?? process.env[options.environmentVariable];
  if (typeof apiKey !== 'string' || apiKey === '') {
    throw new InvalidArgumentError(
      'apiKey',
      `${options.vendor} API key is missing. Pass \`apiKey\` or set ${options.environmentVariable}.`,
    );
  }
  return apiKey;
}

/** The settings every hosted adapter takes to reach its vendor (each documents them with its own variables). */
export interface VendorConnectionSettings<Client> {
  /** API key. */
  apiKey?: string;
  /** Base URL of the API. */
  baseURL?: string;
  /** The `fetch` the SDK sends requests with. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Retries of a failed request, done by the vendor SDK only. Default 2. */
  maxRetries?: number;
  /** Time limit of one request attempt, in milliseconds. */
  timeoutMs?: number;
  /** A client the caller made, used as configured. */
  client?: Client;
}

/** The options both vendor SDKs' constructors take. */
export interface VendorClientOptions {
  apiKey: string;
  maxRetries: number;
  baseURL?: string;
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  timeout?: number;
}

/**
 * The vendor client, made on first use: a missing API key is reported when a request is made (and again on the
 * next one, so setting the variable later works), not when the adapter is created. Passing `client` together
 * with settings it would ignore (`apiKey`, `baseURL`, …) throws at once, as do retries or a timeout that are not
 * whole numbers.
 */
export function createVendorClientLoader<Client>(
  settings: VendorConnectionSettings<Client>,
  vendor: { vendor: string; apiKeyVariable: string },
  create: (options: VendorClientOptions) => Client,
): () => Client {
  requireWholeNumber('maxRetries', settings.maxRetries);
  requireWholeNumber('timeoutMs', settings.timeoutMs, { minimum: 1, unit: 'milliseconds' });
  const given = settings.client;
  if (given !== undefined) {
    const ignored = (['apiKey', 'baseURL', 'fetch', 'maxRetries', 'timeoutMs'] as const).filter(
      (name) => settings[name] !== undefined,
    );
    if (ignored.length > 0) {
      throw new InvalidArgumentError(
        ignored[0]!,
        `Pass either \`client\` or ${ignored.map((name) => `\`${name}\``).join(', ')}: ` +
          `a ${vendor.vendor} client you pass is used as configured. Set them on the client instead.`,
      );
    }
    return () => given;
  }
  let client: Client | undefined;
  return () => {
    client ??= create({
      apiKey: loadApiKey({
        apiKey: settings.apiKey,
        environmentVariable: vendor.apiKeyVariable,
        vendor: vendor.vendor,
      }),
      maxRetries: settings.maxRetries ?? 2,
      ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
      ...(settings.fetch === undefined ? {} : { fetch: settings.fetch }),
      ...(settings.timeoutMs === undefined ? {} : { timeout: settings.timeoutMs }),
    });
    return client;
  };
}
