import Anthropic, { APIError } from '@anthropic-ai/sdk';
import {
  AbortError,
  createEstimatingTokenCounter,
  createPersonalizer,
  type ModelAdapter,
  type Persona,
  type Personalizer,
  type TokenCounter,
  type UserplugWarning,
} from '@userplug/core';
import {
  createHostedModelAdapter,
  createVendorClientLoader,
  fittedPersonaOf,
  malformedResponse,
  personalizeRequestFor,
  personalizeWithinBudget,
  requireModelId,
  requireWholeNumber,
} from '@userplug/provider-utils';
import { z } from 'zod';
import {
  anthropicFinishReason,
  createMessage,
  type MessagesBody,
  messagesBody,
  type SystemBlock,
  streamMessage,
  systemBlocks,
} from './anthropic-messages.js';
import { type AnthropicModelPrice, anthropicPrices, findAnthropicPrice } from './anthropic-prices.js';
import { anthropicIdentity, normalizeAnthropicError } from './normalize-anthropic-error.js';

/** Settings of {@link createAnthropicAdapter}. Only `model` is required. */
export interface AnthropicAdapterSettings {
  /** Claude model id, such as `claude-sonnet-4-6`. Picks the price. */
  model: string;
  /** API key. Default: the ANTHROPIC_API_KEY environment variable, read when the first request is made (a missing key fails that request). */
  apiKey?: string;
  /** Base URL of the Anthropic API (without `/v1`). Default: ANTHROPIC_BASE_URL, else `https://api.anthropic.com`. */
  baseURL?: string;
  /** The `fetch` the SDK sends requests with. Default: the global `fetch`. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Retries of a failed message request (429, 529, 5xx, 408, 409, connection errors), done by the Anthropic SDK only, honouring `retry-after`. Default 2. */
  maxRetries?: number;
  /** Time limit of one request attempt, in milliseconds. Default: the SDK's (10 minutes). */
  timeoutMs?: number;
  /** An Anthropic client you made (`new Anthropic({ … })`), used as configured; then leave out the connection settings above. */
  client?: Anthropic;
  /** Builds the personas. Default: a new personalizer with core's defaults (embedded encoder, in-memory store) counting with `tokenCounter`. */
  personalizer?: Personalizer;
  /** Persona budget, in Claude tokens; 0 sends no persona. Default 300 (or the budget of the `personalizer` you pass). */
  budget?: number;
  /** Most tokens to generate (`max_tokens`, required by the API); a request's `maxOutputTokens` wins. Default 1024. */
  maxOutputTokens?: number;
  /** Your app's system instructions, sent first (before the persona); a request's `system` wins. The same for every user, so it caches best. Default none. */
  system?: string;
  /**
   * Checks each persona's size with the API's token counting endpoint (`/v1/messages/count_tokens`,
   * free, one request per new persona, never retried) and reports that count; when the endpoint
   * fails, the conservative estimate stands in, with a `compatibility` warning. Default true.
   */
  countTokens?: boolean;
  /** Counts Claude tokens offline, never under-counting: renders the default personalizer's persona and stands in for the endpoint. Default: `createEstimatingTokenCounter()` (o200k × 1.6, at least UTF-8 bytes ÷ 2.5). */
  tokenCounter?: TokenCounter;
  /** Prices in US dollars per million tokens by model id, merged over the built-in table (`anthropicPrices`). */
  prices?: Readonly<Record<string, AnthropicModelPrice>>;
}

const apiTokenizer = 'anthropic-count-tokens';
const tokenCountSchema = z.object({ input_tokens: z.number() });

/**
 * A Claude model with the user plugged in. Each call builds the user's query-aware persona under the budget and
 * sends `system` as text blocks — your instructions, the stable persona marked `cache_control: { type: 'ephemeral' }`,
 * the query-dependent persona — then the earlier turns and the prompt, so Anthropic's prompt cache reuses the
 * per-user prefix.
 */
export function createAnthropicAdapter(settings: AnthropicAdapterSettings): ModelAdapter {
  const modelId = settings?.model;
  requireModelId(modelId, 'a Claude model id', 'claude-sonnet-4-6');
  requireWholeNumber('budget', settings.budget, { unit: 'tokens' });
  requireWholeNumber('maxOutputTokens', settings.maxOutputTokens, { minimum: 1, unit: 'tokens' });
  const connect = createVendorClientLoader(settings, anthropicIdentity, (options) => new Anthropic(options));
  const estimator: Promise<TokenCounter> = settings.tokenCounter
    ? Promise.resolve(settings.tokenCounter)
    : createEstimatingTokenCounter();
  // Reported where it is awaited, on the first call.
  estimator.catch(() => {});
  const personalizer =
    settings.personalizer ??
    createPersonalizer({
      tokenCounter: estimator,
      ...(settings.budget === undefined ? {} : { budget: settings.budget }),
    });
  const countTokens = settings.countTokens ?? true;
  let countEndpointMissing = false;
  let baseline: Promise<number> | undefined;
  const counted = new Map<string, number>();
  const renderBudgets = new Map<string, number>();
  let learnedDefaultBudget: number | undefined;

  async function countRequest(
    client: Anthropic,
    system: SystemBlock[],
    signal: AbortSignal,
  ): Promise<number> {
    const response: unknown = await client.messages.countTokens(
      {
        model: modelId,
        ...(system.length > 0 ? { system } : {}),
        messages: [{ role: 'user', content: '.' }],
      },
      // Not retried: a failed count falls back to the estimate instead of delaying the call.
      { maxRetries: 0, signal },
    );
    const parsed = tokenCountSchema.safeParse(response);
    if (!parsed.success) {
      throw malformedResponse(
        anthropicIdentity,
        'Messages',
        'token count without input_tokens',
        parsed.error,
      );
    }
    return parsed.data.input_tokens;
  }

  /** Tokens the persona adds to a request, by the API: the request with it minus the request without it. */
  async function countWithApi(client: Anthropic, persona: Persona, signal: AbortSignal): Promise<number> {
    const key = `${persona.stableText}\u0000${persona.dynamicText}`;
    const known = counted.get(key);
    if (known !== undefined) return known;
    if (!baseline) {
      baseline = countRequest(client, systemBlocks(settings.system, undefined), signal);
      baseline.catch(() => {
        baseline = undefined;
      });
    }
    const [withPersona, without] = await Promise.all([
      countRequest(client, systemBlocks(settings.system, persona), signal),
      baseline,
    ]);
    const tokens = Math.max(0, withPersona - without);
    counted.set(key, tokens);
    if (counted.size > 256) counted.delete(counted.keys().next().value!);
    return tokens;
  }

  return createHostedModelAdapter<Anthropic, MessagesBody>({
    identity: anthropicIdentity,
    modelId,
    personalizer,
    ownsPersonalizer: settings.personalizer === undefined,
    price: findAnthropicPrice(modelId, { ...anthropicPrices, ...settings.prices }),
    connect,
    async fitPersona(client, request, signal) {
      const estimate = await estimator;
      // Ingest first, so the revision below is the one the persona is built from.
      if (request.history !== undefined)
        await personalizer.ingest(request.userId, request.history, { signal });
      const budget = request.budget ?? settings.budget ?? learnedDefaultBudget;
      const warnings: UserplugWarning[] = [];
      const useApi = () => countTokens && !countEndpointMissing;
      let tokenizer = estimate.id;
      const countPersonaTokens = async (persona: Persona): Promise<number> => {
        if (!useApi()) {
          tokenizer = estimate.id;
          return estimate.count(persona.text);
        }
        try {
          const tokens = await countWithApi(client, persona, signal);
          tokenizer = apiTokenizer;
          return tokens;
        } catch (error) {
          const reason = normalizeAnthropicError(error, { modelId, maxRetries: 0 });
          if (AbortError.isInstance(reason)) throw reason;
          const status = error instanceof APIError ? error.status : undefined;
          // A gateway without the counting endpoint will not grow one: stop asking.
          if (status === 404 || status === 405 || status === 501) countEndpointMissing = true;
          warnings.push({
            type: 'compatibility',
            feature: 'count-tokens',
            message:
              `Anthropic's token counting failed (${reason instanceof Error ? reason.message : String(reason)}); ` +
              `the persona was held to the budget by the conservative estimate ${estimate.id} instead. ` +
              'Pass `countTokens: false` to skip the endpoint.',
          });
          tokenizer = estimate.id;
          return estimate.count(persona.text);
        }
      };
      // One render budget per user, history revision and budget: the stable block stays byte-identical across prompts.
      const key =
        budget === undefined
          ? undefined
          : `${request.userId}\u0000${await personalizer.store.getRevision(request.userId)}\u0000${budget}`;
      const calibrated = key === undefined ? undefined : renderBudgets.get(key);
      const fitted = await personalizeWithinBudget(
        personalizer,
        personalizeRequestFor(request, { budget, signal, withHistory: false }),
        {
          countPersonaTokens,
          tokenizer: countTokens ? apiTokenizer : estimate.id,
          ...(calibrated === undefined ? {} : { renderBudget: calibrated }),
          // The estimate over-counts on purpose; the API's count shows how much of the budget is really left.
          fill: calibrated === undefined && useApi(),
        },
      );
      if (budget === undefined) learnedDefaultBudget = fitted.budget;
      if (key !== undefined && tokenizer === apiTokenizer && fitted.renderBudget > 0) {
        renderBudgets.set(key, fitted.renderBudget);
        if (renderBudgets.size > 1_024) renderBudgets.delete(renderBudgets.keys().next().value!);
      }
      if (fitted.personaTokens === 0) tokenizer = useApi() ? apiTokenizer : estimate.id;
      return fittedPersonaOf(fitted, tokenizer, warnings);
    },
    buildBody: (request, persona, warnings) =>
      messagesBody(
        request,
        persona,
        { model: modelId, system: settings.system, maxOutputTokens: settings.maxOutputTokens ?? 1024 },
        warnings,
      ),
    generate: createMessage,
    stream: streamMessage,
    finishReason: anthropicFinishReason,
    normalizeError: normalizeAnthropicError,
  });
}
