import {
  createPersonalizer,
  createTiktokenCounter,
  type ModelAdapter,
  type Personalizer,
  type TokenCounter,
  tiktokenEncodingForModel,
} from '@userplug/core';
import {
  createHostedModelAdapter,
  fittedPersonaOf,
  personalizeRequestFor,
  personalizeWithinBudget,
  requireModelId,
  requireWholeNumber,
} from '@userplug/provider-utils';
import type OpenAI from 'openai';
import { createOpenAIClientLoader, type OpenAIConnectionSettings } from './create-openai-client-loader.js';
import { normalizeOpenAIError, openAIIdentity } from './normalize-openai-error.js';
import {
  type ChatCompletionsBody,
  chatCompletionsBody,
  createChatCompletion,
  openAIFinishReason,
  streamChatCompletion,
} from './openai-chat-completions.js';
import { findOpenAIPrice, type OpenAIModelPrice, openAIPrices } from './openai-prices.js';

/** Settings of {@link createOpenAIAdapter}. Only `model` is required. */
export interface OpenAIAdapterSettings extends OpenAIConnectionSettings {
  /** OpenAI model id, such as `gpt-5.4-mini`. Picks the tokenizer the budget is counted with (o200k or cl100k) and the price. */
  model: string;
  /** Builds the personas. Default: a new personalizer with core's defaults (embedded encoder, in-memory store) counting with the model's tokenizer. */
  personalizer?: Personalizer;
  /** Persona budget, in the model's tokens; 0 sends no persona. Default 300 (or the budget of the `personalizer` you pass). */
  budget?: number;
  /** Most tokens to generate (`max_completion_tokens`), reasoning included; a request's `maxOutputTokens` wins. Default: the model's own limit. */
  maxOutputTokens?: number;
  /** Your app's system instructions, sent first (before the persona); a request's `system` wins. The same for every user, so it caches best. Default none. */
  system?: string;
  /** Prices in US dollars per million tokens by model id, merged over the built-in table (`openAIPrices`). */
  prices?: Readonly<Record<string, OpenAIModelPrice>>;
}

/**
 * An OpenAI chat model with the user plugged in. Each call builds the user's query-aware persona under the budget
 * (counted with the model's own tokenizer) and sends
 * `[system: your instructions?] [system: stable persona + query-dependent persona] [earlier turns] [user: prompt]`,
 * so the per-user prefix is byte-identical across prompts and OpenAI's prompt cache can reuse it.
 */
export function createOpenAIAdapter(settings: OpenAIAdapterSettings): ModelAdapter {
  const modelId = settings?.model;
  requireModelId(modelId, 'an OpenAI model id', 'gpt-5.4-mini');
  requireWholeNumber('budget', settings.budget, { unit: 'tokens' });
  requireWholeNumber('maxOutputTokens', settings.maxOutputTokens, { minimum: 1, unit: 'tokens' });
  const connect = createOpenAIClientLoader(settings);
  const encoding = tiktokenEncodingForModel(modelId);
  const personalizer =
    settings.personalizer ??
    createPersonalizer({
      tokenCounter: encoding,
      ...(settings.budget === undefined ? {} : { budget: settings.budget }),
    });
  let counter: Promise<TokenCounter> | undefined;

  return createHostedModelAdapter<OpenAI, ChatCompletionsBody>({
    identity: openAIIdentity,
    modelId,
    personalizer,
    ownsPersonalizer: settings.personalizer === undefined,
    price: findOpenAIPrice(modelId, { ...openAIPrices, ...settings.prices }),
    connect,
    async fitPersona(_client, request, signal) {
      counter ??= createTiktokenCounter({ encoding });
      const tokenCounter = await counter;
      const fitted = await personalizeWithinBudget(
        personalizer,
        personalizeRequestFor(request, {
          budget: request.budget ?? settings.budget,
          signal,
          withHistory: true,
        }),
        { countPersonaTokens: (persona) => tokenCounter.count(persona.text), tokenizer: encoding },
      );
      return fittedPersonaOf(fitted, encoding);
    },
    buildBody: (request, persona, warnings) =>
      chatCompletionsBody(
        request,
        persona,
        { model: modelId, system: settings.system, maxOutputTokens: settings.maxOutputTokens },
        warnings,
      ),
    generate: createChatCompletion,
    stream: streamChatCompletion,
    finishReason: openAIFinishReason,
    normalizeError: normalizeOpenAIError,
  });
}
