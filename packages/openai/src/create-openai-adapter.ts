import {
  createPersonalizer,
  createTiktokenCounter,
  InvalidArgumentError,
  type PersonalizeRequest,
  type Personalizer,
  ProviderError,
  type TokenCounter,
  tiktokenEncodingForModel,
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
import OpenAI from 'openai';
import { z } from 'zod';
import { normalizeOpenAIError } from './normalize-openai-error.js';
import { findOpenAIPrice, type OpenAIModelPrice, openAICost, openAIPrices } from './openai-prices.js';

/** Settings of {@link createOpenAIAdapter}. Only `model` is required. */
export interface OpenAIAdapterSettings {
  /** OpenAI model id, such as `gpt-5.4-mini`. Picks the tokenizer the budget is counted with (o200k or cl100k) and the price. */
  model: string;
  /** API key. Default: the OPENAI_API_KEY environment variable; without either, creating the adapter throws. */
  apiKey?: string;
  /** Base URL of an OpenAI-compatible API, passed to the SDK. Default: OPENAI_BASE_URL, else `https://api.openai.com/v1`. */
  baseURL?: string;
  /** The `fetch` the SDK sends requests with. Default: the global `fetch`. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Builds the personas. Default: a new personalizer with core's defaults (embedded encoder, in-memory store) counting with the model's tokenizer. */
  personalizer?: Personalizer;
  /** Persona budget, in the model's tokens; 0 sends no persona. Default 300 (or the budget of the `personalizer` you pass). */
  budget?: number;
  /** Retries of a failed request (429, 5xx, 408, 409, connection errors), done by the OpenAI SDK only, honouring `retry-after`. Default 2. */
  maxRetries?: number;
  /** Time limit of one request attempt, in milliseconds. Default 600,000 (the SDK's). */
  timeoutMs?: number;
  /** Most tokens to generate (`max_completion_tokens`), reasoning included. Default: the model's own limit. */
  maxOutputTokens?: number;
  /** Your app's own system instructions, sent first (before the persona): the same for every user, so it caches best. Default none. */
  system?: string;
  /** Prices in US dollars per million tokens by model id, merged over the built-in table (`openAIPrices`). */
  prices?: Readonly<Record<string, OpenAIModelPrice>>;
}

const provider = 'openai';

const usageSchema = z
  .object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
  })
  .nullish();

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema,
});

const chunkSchema = z.object({
  choices: z.array(
    z.object({
      delta: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

type ProviderUsage = z.infer<typeof usageSchema>;

function requireWholeNumber(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new InvalidArgumentError(name, `${name} must be a whole number ≥ 0, got ${String(value)}.`);
  }
}

function malformed(detail: string, cause?: unknown): ProviderError {
  return new ProviderError(
    `OpenAI sent a response that does not match the Chat Completions format (${detail}). Check \`baseURL\` points at an OpenAI-compatible API.`,
    { provider, retryable: false },
    cause === undefined ? {} : { cause },
  );
}

/**
 * An OpenAI chat model with persona injection. Each call builds the user's query-aware persona
 * under the budget (counted with the model's real tokenizer) and sends
 * `[system: your instructions?] [system: stable persona + query-dependent persona] [earlier turns] [user: prompt]`,
 * so the per-user prefix is byte-identical across prompts and OpenAI's prompt cache can reuse it.
 */
export function createOpenAIAdapter(settings: OpenAIAdapterSettings): HostedAdapter {
  const model = settings.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidArgumentError(
      'model',
      'model is required. Pass an OpenAI model id, such as "gpt-5.4-mini".',
    );
  }
  const apiKey = settings.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey) {
    throw new InvalidArgumentError(
      'apiKey',
      'OpenAI API key is missing. Pass `apiKey` or set OPENAI_API_KEY.',
    );
  }
  requireWholeNumber('maxRetries', settings.maxRetries);
  requireWholeNumber('budget', settings.budget);
  const maxRetries = settings.maxRetries ?? 2;
  const client = new OpenAI({
    apiKey,
    maxRetries,
    ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
    ...(settings.fetch === undefined ? {} : { fetch: settings.fetch }),
    ...(settings.timeoutMs === undefined ? {} : { timeout: settings.timeoutMs }),
  });
  const encoding = tiktokenEncodingForModel(model);
  const ownsPersonalizer = settings.personalizer === undefined;
  const personalizer =
    settings.personalizer ??
    createPersonalizer({
      tokenCounter: encoding,
      ...(settings.budget === undefined ? {} : { budget: settings.budget }),
    });
  const price = findOpenAIPrice(model, { ...openAIPrices, ...settings.prices });
  let counter: Promise<TokenCounter> | undefined;

  async function personalizeFor(request: HostedGenerateRequest): Promise<BudgetedPersonalization> {
    requireWholeNumber('budget', request.budget);
    // Checked before any ingest or persona work, so a malformed turn costs nothing.
    earlierMessages(request.messages);
    const budget = request.budget ?? settings.budget;
    const personalizeRequest: PersonalizeRequest = {
      userId: request.userId,
      prompt: request.prompt,
      ...(request.history === undefined ? {} : { history: request.history }),
      ...(request.instruction === undefined ? {} : { instruction: request.instruction }),
      ...(budget === undefined ? {} : { budget }),
    };
    counter ??= createTiktokenCounter({ encoding });
    const tokenCounter = await counter;
    return personalizeWithinBudget(personalizer, personalizeRequest, {
      countPersonaTokens: (persona) => tokenCounter.count(persona.text),
      tokenizer: encoding,
    });
  }

  function messagesFor(fitted: BudgetedPersonalization, request: HostedGenerateRequest) {
    const persona = fitted.result.persona;
    return [
      ...(settings.system ? [{ role: 'system' as const, content: settings.system }] : []),
      // stableText leads the persona block, so the per-user prefix stays byte-identical.
      ...(persona.text
        ? [{ role: 'system' as const, content: persona.stableText + persona.dynamicText }]
        : []),
      ...earlierMessages(request.messages),
      { role: 'user' as const, content: request.prompt },
    ];
  }

  function finish(
    fitted: BudgetedPersonalization,
    text: string,
    finishReason: string | undefined,
    providerUsage: ProviderUsage,
    extraWarnings: PersonalizeWarning[],
  ): HostedGenerateResult {
    const warnings = [...fitted.result.warnings, ...extraWarnings];
    const promptTokens = providerUsage?.prompt_tokens;
    const completionTokens = providerUsage?.completion_tokens;
    const cachedTokens = providerUsage
      ? (providerUsage.prompt_tokens_details?.cached_tokens ?? 0)
      : undefined;
    let costUsd: number | undefined;
    if (!price) {
      warnings.push({
        type: 'unknown-price',
        message: `No price is known for model "${model}": usage.costUsd is undefined. Pass \`prices\` to the adapter to compute it.`,
      });
    } else if (promptTokens !== undefined && completionTokens !== undefined) {
      costUsd = openAICost(price, { promptTokens, completionTokens, cachedTokens: cachedTokens ?? 0 });
    }
    if (!providerUsage) {
      warnings.push({
        type: 'missing-usage',
        message: 'OpenAI reported no token usage for this call: token counts and cost are undefined.',
      });
    }
    const usage: HostedUsage = {
      personaTokens: fitted.personaTokens,
      personaTokenizer: encoding,
      budget: fitted.budget,
      promptTokens,
      completionTokens,
      cachedTokens,
      cacheWriteTokens: undefined,
      costUsd,
    };
    return { text, persona: fitted.result.persona, usage, warnings, finishReason };
  }

  function requestOptions(signal: AbortSignal | undefined) {
    return signal === undefined ? {} : { signal };
  }

  async function generate(request: HostedGenerateRequest): Promise<HostedGenerateResult> {
    const fitted = await personalizeFor(request);
    let response: unknown;
    try {
      response = await client.chat.completions.create(
        {
          model,
          messages: messagesFor(fitted, request),
          ...(settings.maxOutputTokens === undefined
            ? {}
            : { max_completion_tokens: settings.maxOutputTokens }),
        },
        requestOptions(request.signal),
      );
    } catch (error) {
      throw normalizeOpenAIError(error, { model, maxRetries });
    }
    const parsed = completionSchema.safeParse(response);
    if (!parsed.success) throw malformed(parsed.error.issues[0]?.message ?? 'unexpected body', parsed.error);
    const choice = parsed.data.choices[0]!;
    const warnings: PersonalizeWarning[] = [];
    if (choice.message.refusal) {
      warnings.push({ type: 'refusal', message: `The model refused: ${choice.message.refusal}` });
    }
    return finish(
      fitted,
      choice.message.content ?? '',
      choice.finish_reason ?? undefined,
      parsed.data.usage,
      warnings,
    );
  }

  async function* stream(request: HostedGenerateRequest): AsyncGenerator<HostedStreamChunk> {
    const fitted = await personalizeFor(request);
    // Our own controller, so that leaving the loop early also cancels a request still in flight.
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    if (request.signal?.aborted) forwardAbort();
    const pending = client.chat.completions.create(
      {
        model,
        messages: messagesFor(fitted, request),
        stream: true,
        stream_options: { include_usage: true },
        ...(settings.maxOutputTokens === undefined
          ? {}
          : { max_completion_tokens: settings.maxOutputTokens }),
      },
      { signal: controller.signal },
    );
    // Handled below; this keeps an early exit from leaving an unhandled rejection.
    pending.catch(() => {});
    let text = '';
    let finishReason: string | undefined;
    let providerUsage: ProviderUsage;
    const warnings: PersonalizeWarning[] = [];
    try {
      yield { type: 'persona', persona: fitted.result.persona };
      let events: AsyncIterable<unknown>;
      try {
        events = await pending;
      } catch (error) {
        throw normalizeOpenAIError(error, { model, maxRetries });
      }
      const iterator = events[Symbol.asyncIterator]();
      while (true) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw normalizeOpenAIError(error, { model, maxRetries });
        }
        if (next.done) {
          // The SDK ends a stream quietly when it is aborted: a cut-off answer must not look complete.
          if (controller.signal.aborted)
            throw request.signal?.reason ?? new Error('The request was aborted.');
          break;
        }
        const parsed = chunkSchema.safeParse(next.value);
        if (!parsed.success)
          throw malformed(parsed.error.issues[0]?.message ?? 'unexpected chunk', parsed.error);
        if (parsed.data.usage) providerUsage = parsed.data.usage;
        for (const choice of parsed.data.choices) {
          if (choice.finish_reason) finishReason = choice.finish_reason;
          if (choice.delta?.refusal) {
            warnings.push({ type: 'refusal', message: `The model refused: ${choice.delta.refusal}` });
          }
          const delta = choice.delta?.content;
          if (delta) {
            text += delta;
            yield { type: 'text', text: delta };
          }
        }
      }
      yield { type: 'finish', ...finish(fitted, text, finishReason, providerUsage, warnings) };
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
