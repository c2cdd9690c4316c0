import { createVendorClientLoader } from '@userplug/provider-utils';
import OpenAI from 'openai';
import { openAIIdentity } from './normalize-openai-error.js';

/** How the adapter reaches OpenAI: its own client from these settings, or yours (`client`). */
export interface OpenAIConnectionSettings {
  /** API key. Default: the OPENAI_API_KEY environment variable, read when the first request is made (a missing key fails that request). */
  apiKey?: string;
  /** Base URL of an OpenAI-compatible API. Default: OPENAI_BASE_URL, else `https://api.openai.com/v1`. */
  baseURL?: string;
  /** The `fetch` the SDK sends requests with. Default: the global `fetch`. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Retries of a failed request (429, 5xx, 408, 409, connection errors), done by the OpenAI SDK only, honouring `retry-after`. Default 2. */
  maxRetries?: number;
  /** Time limit of one request attempt, in milliseconds. Default 600,000 (the SDK's). */
  timeoutMs?: number;
  /** An OpenAI client you made (`new OpenAI({ … })`), used as configured; then leave out the settings above. */
  client?: OpenAI;
}

/** The OpenAI client of a connection: yours, or one made (on first use) from the settings. */
export function createOpenAIClientLoader(settings: OpenAIConnectionSettings): () => OpenAI {
  return createVendorClientLoader(settings, openAIIdentity, (options) => new OpenAI(options));
}
