import Anthropic, { APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import {
  createEstimatingTokenCounter,
  createPersonalizer,
  InvalidArgumentError,
  type Persona,
  type PersonalizeRequest,
  type Personalizer,
  ProviderError,
  type TokenCounter,
} from '@userplug/core';
import {
  type BudgetedPersonalization,
  earlierMessages,
  type HostedAdapter,
  type HostedGenerateRequest,
  type HostedGenerateResult,
  type HostedStreamChunk,
  type HostedUsage,
  type PersonalizeWarning,
  personalizeWithinBudget,
} from '@userplug/core/internal';
import { z } from 'zod';
import {
  type AnthropicModelPrice,
  anthropicCost,
  anthropicPrices,
  findAnthropicPrice,
} from './anthropic-prices.js';
import { normalizeAnthropicError } from './normalize-anthropic-error.js';

/** Settings of {@link createAnthropicAdapter}. Only `model` is required. */
export interface AnthropicAdapterSettings {
  /** Claude model id, such as `claude-sonnet-4-6`. Picks the price. */
  model: string;
  /** API key. Default: the ANTHROPIC_API_KEY environment variable; without either, creating the adapter throws. */
  apiKey?: string;
  /** Base URL of the Anthropic API (without `/v1`), passed to the SDK. Default: ANTHROPIC_BASE_URL, else `https://api.anthropic.com`. */
  baseURL?: string;
  /** The `fetch` the SDK sends requests with. Default: the global `fetch`. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Builds the personas. Default: a new personalizer with core's defaults (embedded encoder, in-memory store) counting with `tokenCounter`. */
  personalizer?: Personalizer;
  /** Persona budget, in Claude tokens; 0 sends no persona. Default 300 (or the budget of the `personalizer` you pass). */
  budget?: number;
  /** Retries of a failed message request (429, 529, 5xx, 408, 409, connection errors), done by the Anthropic SDK only, honouring `retry-after`. Default 2. */
  maxRetries?: number;
  /** Time limit of one request attempt, in milliseconds. Default: the SDK's (10 minutes). */
  timeoutMs?: number;
  /** Most tokens to generate (`max_tokens`, required by the API). Default 1024. */
  maxOutputTokens?: number;
  /** Your app's own system instructions, sent first (before the persona): the same for every user, so it caches best. Default none. */
  system?: string;
  /**
   * Checks each persona's size with the API's token counting endpoint (`/v1/messages/count_tokens`,
   * free, one request per new persona, never retried) and reports that count; when the endpoint
   * fails, the conservative estimate stands in, with a warning. Default true.
   */
  countTokens?: boolean;
  /** Counts Claude tokens offline, never under-counting: renders the default personalizer's persona and stands in for the endpoint. Default: `createEstimatingTokenCounter()` (o200k × 1.6, at least UTF-8 bytes ÷ 2.5). */
  tokenCounter?: TokenCounter;
  /** Prices in US dollars per million tokens by model id, merged over the built-in table (`anthropicPrices`). */
  prices?: Readonly<Record<string, AnthropicModelPrice>>;
}

const provider = 'anthropic';
const apiTokenizer = 'anthropic-count-tokens';

const usageSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

const messageSchema = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
});

const eventSchema = z.object({
  type: z.string(),
  message: z.object({ usage: usageSchema.nullish() }).nullish(),
  delta: z
    .object({ type: z.string().nullish(), text: z.string().nullish(), stop_reason: z.string().nullish() })
    .nullish(),
  usage: usageSchema.nullish(),
});

const tokenCountSchema = z.object({ input_tokens: z.number() });

type ProviderUsage = z.infer<typeof usageSchema>;

interface SystemBlock {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral' };
}

function requireWholeNumber(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new InvalidArgumentError(name, `${name} must be a whole number ≥ 0, got ${String(value)}.`);
  }
}

function malformed(detail: string, cause?: unknown): ProviderError {
  return new ProviderError(
    `Anthropic sent a response that does not match the Messages format (${detail}). Check \`baseURL\` points at the Anthropic API.`,
    { provider, retryable: false },
    cause === undefined ? {} : { cause },
  );
}

/** Holds every personalizer call until the token counter it renders with has loaded. */
function afterReady(inner: Personalizer, ready: () => Promise<unknown>): Personalizer {
  return {
    store: inner.store,
    getEncoder: () => inner.getEncoder(),
    ingest: async (userId, history) => {
      await ready();
      return inner.ingest(userId, history);
    },
    personalize: async (request) => {
      await ready();
      return inner.personalize(request);
    },
    deleteItems: (userId, itemIds) => inner.deleteItems(userId, itemIds),
    forget: (userId) => inner.forget(userId),
    dispose: () => inner.dispose(),
  };
}

/**
 * A Claude model with persona injection. Each call builds the user's query-aware persona under
 * the budget and sends `system` as text blocks — your instructions, the stable persona marked
 * `cache_control: { type: 'ephemeral' }`, the query-dependent persona — then the prompt as the
 * user message, so Anthropic's prompt cache reuses the per-user prefix.
 */
export function createAnthropicAdapter(settings: AnthropicAdapterSettings): HostedAdapter {
  const model = settings.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidArgumentError(
      'model',
      'model is required. Pass a Claude model id, such as "claude-sonnet-4-6".',
    );
  }
  const apiKey = settings.apiKey ?? process.env.ANTHROPIC_API_KEY;
  if (!apiKey) {
    throw new InvalidArgumentError(
      'apiKey',
      'Anthropic API key is missing. Pass `apiKey` or set ANTHROPIC_API_KEY.',
    );
  }
  requireWholeNumber('maxRetries', settings.maxRetries);
  requireWholeNumber('budget', settings.budget);
  requireWholeNumber('maxOutputTokens', settings.maxOutputTokens);
  const maxRetries = settings.maxRetries ?? 2;
  const maxOutputTokens = settings.maxOutputTokens ?? 1024;
  const client = new Anthropic({
    apiKey,
    maxRetries,
    ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
    ...(settings.fetch === undefined ? {} : { fetch: settings.fetch }),
    ...(settings.timeoutMs === undefined ? {} : { timeout: settings.timeoutMs }),
  });

  let estimator: TokenCounter | undefined = settings.tokenCounter;
  let estimatorLoading: Promise<TokenCounter> | undefined;
  const getEstimator = (): Promise<TokenCounter> => {
    estimatorLoading ??= (
      settings.tokenCounter ? Promise.resolve(settings.tokenCounter) : createEstimatingTokenCounter()
    ).then((counter) => {
      estimator = counter;
      return counter;
    });
    return estimatorLoading;
  };
  const loadedEstimator = (): TokenCounter => {
    if (!estimator) throw new Error('The token estimate is used before it has loaded.');
    return estimator;
  };
  // The personalizer takes a counter synchronously; this one forwards to the estimate once loaded.
  const forwardingCounter: TokenCounter = {
    get id() {
      return loadedEstimator().id;
    },
    count: (text) => loadedEstimator().count(text),
    truncate: (text, maxTokens) => loadedEstimator().truncate(text, maxTokens),
  };
  const ownsPersonalizer = settings.personalizer === undefined;
  const personalizer =
    settings.personalizer ??
    afterReady(
      createPersonalizer({
        tokenCounter: forwardingCounter,
        ...(settings.budget === undefined ? {} : { budget: settings.budget }),
      }),
      getEstimator,
    );
  const price = findAnthropicPrice(model, { ...anthropicPrices, ...settings.prices });
  const countTokens = settings.countTokens ?? true;
  let countEndpointMissing = false;
  let baseline: Promise<number> | undefined;
  const counted = new Map<string, number>();
  const renderBudgets = new Map<string, number>();
  let learnedDefaultBudget: number | undefined;

  function systemBlocks(persona: Persona | undefined): SystemBlock[] {
    const blocks: SystemBlock[] = [];
    if (settings.system) blocks.push({ type: 'text', text: settings.system });
    if (persona?.text) {
      // The stable block is the cache breakpoint: everything up to it is reused while the user's history is unchanged.
      if (persona.stableText) {
        blocks.push({ type: 'text', text: persona.stableText, cache_control: { type: 'ephemeral' } });
      }
      if (persona.dynamicText) blocks.push({ type: 'text', text: persona.dynamicText });
    }
    return blocks;
  }

  async function countRequest(system: SystemBlock[], signal: AbortSignal | undefined): Promise<number> {
    const response = await client.messages.countTokens(
      { model, ...(system.length > 0 ? { system } : {}), messages: [{ role: 'user', content: '.' }] },
      // Not retried: a failed count falls back to the estimate instead of delaying the call.
      { maxRetries: 0, ...(signal === undefined ? {} : { signal }) },
    );
    const parsed = tokenCountSchema.safeParse(response);
    if (!parsed.success) throw malformed('token count without input_tokens', parsed.error);
    return parsed.data.input_tokens;
  }

  /** Tokens the persona adds to a request, by the API: the request with it minus the request without it. */
  async function countWithApi(persona: Persona, signal: AbortSignal | undefined): Promise<number> {
    const key = `${persona.stableText}\u0000${persona.dynamicText}`;
    const known = counted.get(key);
    if (known !== undefined) return known;
    if (!baseline) {
      baseline = countRequest(systemBlocks(undefined), signal);
      baseline.catch(() => {
        baseline = undefined;
      });
    }
    const [withPersona, without] = await Promise.all([countRequest(systemBlocks(persona), signal), baseline]);
    const tokens = Math.max(0, withPersona - without);
    counted.set(key, tokens);
    if (counted.size > 256) counted.delete(counted.keys().next().value!);
    return tokens;
  }

  async function personalizeFor(request: HostedGenerateRequest) {
    requireWholeNumber('budget', request.budget);
    // Checked before any ingest or persona work, so a malformed turn costs nothing.
    earlierMessages(request.messages);
    const estimate = await getEstimator();
    // Ingest first, so the revision below is the one the persona is built from.
    if (request.history !== undefined) await personalizer.ingest(request.userId, request.history);
    const budget = request.budget ?? settings.budget ?? learnedDefaultBudget;
    const personalizeRequest: PersonalizeRequest = {
      userId: request.userId,
      prompt: request.prompt,
      ...(request.instruction === undefined ? {} : { instruction: request.instruction }),
      ...(budget === undefined ? {} : { budget }),
    };
    const warnings: PersonalizeWarning[] = [];
    let tokenizer = estimate.id;
    const countPersonaTokens = async (persona: Persona): Promise<number> => {
      if (!countTokens || countEndpointMissing) {
        tokenizer = estimate.id;
        return estimate.count(persona.text);
      }
      try {
        const tokens = await countWithApi(persona, request.signal);
        tokenizer = apiTokenizer;
        return tokens;
      } catch (error) {
        if (error instanceof APIUserAbortError) throw error;
        const status = error instanceof APIError ? error.status : undefined;
        // A gateway without the counting endpoint will not grow one: stop asking.
        if (status === 404 || status === 405 || status === 501) countEndpointMissing = true;
        const reason = normalizeAnthropicError(error, { model, maxRetries: 0 });
        warnings.push({
          type: 'token-count-unavailable',
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
    const fitted = await personalizeWithinBudget(personalizer, personalizeRequest, {
      countPersonaTokens,
      tokenizer: countTokens ? apiTokenizer : estimate.id,
      ...(calibrated === undefined ? {} : { renderBudget: calibrated }),
      // The estimate over-counts on purpose; the API's count shows how much of the budget is really left.
      fill: calibrated === undefined && countTokens && !countEndpointMissing,
    });
    if (budget === undefined) learnedDefaultBudget = fitted.budget;
    if (key !== undefined && tokenizer === apiTokenizer && fitted.renderBudget > 0) {
      renderBudgets.set(key, fitted.renderBudget);
      if (renderBudgets.size > 1_024) renderBudgets.delete(renderBudgets.keys().next().value!);
    }
    if (fitted.personaTokens === 0)
      tokenizer = countTokens && !countEndpointMissing ? apiTokenizer : estimate.id;
    return { fitted, tokenizer, warnings };
  }

  function bodyFor(persona: Persona, request: HostedGenerateRequest) {
    const system = systemBlocks(persona);
    return {
      model,
      max_tokens: maxOutputTokens,
      ...(system.length > 0 ? { system } : {}),
      messages: [...earlierMessages(request.messages), { role: 'user' as const, content: request.prompt }],
    };
  }

  function finish(
    prepared: { fitted: BudgetedPersonalization; tokenizer: string; warnings: PersonalizeWarning[] },
    text: string,
    finishReason: string | undefined,
    providerUsage: ProviderUsage | undefined,
  ): HostedGenerateResult {
    const { fitted } = prepared;
    const warnings = [...fitted.result.warnings, ...prepared.warnings];
    if (finishReason === 'refusal') {
      warnings.push({ type: 'refusal', message: 'The model declined to answer (stop_reason "refusal").' });
    }
    const inputTokens = providerUsage?.input_tokens ?? undefined;
    const outputTokens = providerUsage?.output_tokens ?? undefined;
    const cacheReadTokens = providerUsage ? (providerUsage.cache_read_input_tokens ?? 0) : undefined;
    const cacheWriteTokens = providerUsage ? (providerUsage.cache_creation_input_tokens ?? 0) : undefined;
    let costUsd: number | undefined;
    if (!price) {
      warnings.push({
        type: 'unknown-price',
        message: `No price is known for model "${model}": usage.costUsd is undefined. Pass \`prices\` to the adapter to compute it.`,
      });
    } else if (inputTokens !== undefined && outputTokens !== undefined) {
      costUsd = anthropicCost(price, {
        inputTokens,
        outputTokens,
        cacheReadTokens: cacheReadTokens ?? 0,
        cacheWriteTokens: cacheWriteTokens ?? 0,
      });
    }
    if (inputTokens === undefined || outputTokens === undefined) {
      warnings.push({
        type: 'missing-usage',
        message: 'Anthropic reported no token usage for this call: token counts and cost are undefined.',
      });
    }
    const usage: HostedUsage = {
      personaTokens: fitted.personaTokens,
      personaTokenizer: prepared.tokenizer,
      budget: fitted.budget,
      promptTokens:
        inputTokens === undefined
          ? undefined
          : inputTokens + (cacheReadTokens ?? 0) + (cacheWriteTokens ?? 0),
      completionTokens: outputTokens,
      cachedTokens: cacheReadTokens,
      cacheWriteTokens,
      costUsd,
    };
    return { text, persona: fitted.result.persona, usage, warnings, finishReason };
  }

  async function generate(request: HostedGenerateRequest): Promise<HostedGenerateResult> {
    const prepared = await personalizeFor(request);
    let response: unknown;
    try {
      response = await client.messages.create(
        bodyFor(prepared.fitted.result.persona, request),
        request.signal === undefined ? {} : { signal: request.signal },
      );
    } catch (error) {
      throw normalizeAnthropicError(error, { model, maxRetries });
    }
    const parsed = messageSchema.safeParse(response);
    if (!parsed.success) throw malformed(parsed.error.issues[0]?.message ?? 'unexpected body', parsed.error);
    const text = parsed.data.content
      .filter((block) => block.type === 'text')
      .map((block) => block.text ?? '')
      .join('');
    return finish(prepared, text, parsed.data.stop_reason ?? undefined, parsed.data.usage);
  }

  async function* stream(request: HostedGenerateRequest): AsyncGenerator<HostedStreamChunk> {
    const prepared = await personalizeFor(request);
    // Our own controller, so that leaving the loop early also cancels a request still in flight.
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    if (request.signal?.aborted) forwardAbort();
    const pending = client.messages.create(
      { ...bodyFor(prepared.fitted.result.persona, request), stream: true },
      { signal: controller.signal },
    );
    // Handled below; this keeps an early exit from leaving an unhandled rejection.
    pending.catch(() => {});
    let text = '';
    let finishReason: string | undefined;
    let providerUsage: ProviderUsage | undefined;
    try {
      yield { type: 'persona', persona: prepared.fitted.result.persona };
      let events: AsyncIterable<unknown>;
      try {
        events = await pending;
      } catch (error) {
        throw normalizeAnthropicError(error, { model, maxRetries });
      }
      const iterator = events[Symbol.asyncIterator]();
      while (true) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw normalizeAnthropicError(error, { model, maxRetries });
        }
        if (next.done) {
          // The SDK ends a stream quietly when it is aborted: a cut-off answer must not look complete.
          if (controller.signal.aborted)
            throw request.signal?.reason ?? new Error('The request was aborted.');
          break;
        }
        const parsed = eventSchema.safeParse(next.value);
        if (!parsed.success)
          throw malformed(parsed.error.issues[0]?.message ?? 'unexpected event', parsed.error);
        const event = parsed.data;
        if (event.type === 'message_start' && event.message?.usage) providerUsage = event.message.usage;
        if (event.type === 'message_delta') {
          if (event.delta?.stop_reason) finishReason = event.delta.stop_reason;
          // message_delta carries cumulative counts; a null one keeps message_start's value.
          if (event.usage) {
            const latest = event.usage;
            const merged: ProviderUsage = { ...providerUsage };
            for (const key of Object.keys(latest) as Array<keyof ProviderUsage>) {
              const value = latest[key];
              if (value !== null && value !== undefined) merged[key] = value;
            }
            providerUsage = merged;
          }
        }
        if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta' && event.delta.text) {
          text += event.delta.text;
          yield { type: 'text', text: event.delta.text };
        }
      }
      yield { type: 'finish', ...finish(prepared, text, finishReason, providerUsage) };
    } finally {
      request.signal?.removeEventListener('abort', forwardAbort);
      controller.abort();
    }
  }

  return {
    model,
    personalizer,
    generate,
    stream,
    async dispose() {
      if (ownsPersonalizer) await personalizer.dispose();
    },
  };
}
