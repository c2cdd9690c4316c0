import type { Personalizer } from './create-personalizer.js';
import type { HistorySource } from './history-item.js';
import type { Persona } from './personalize-result.js';

/** Transitional: the adapters' warnings before they move to `UserplugWarning`. */
export interface PersonalizeWarning {
  /** Stable identifier. */
  type: string;
  /** What happened and what to do. */
  message: string;
}

import { InvalidArgumentError } from './userplug-error.js';

/** An earlier turn of the conversation. */
export interface HostedMessage {
  /** Who said it. */
  role: 'user' | 'assistant';
  /** What was said. */
  content: string;
}

/** One call to a hosted adapter (`@userplug/openai`, `@userplug/anthropic`). */
export interface HostedGenerateRequest {
  /** The user; every store operation is scoped to it. */
  userId: string;
  /** The user's message, sent last. */
  prompt: string;
  /**
   * Earlier turns of the conversation, oldest first, sent after the persona and before the prompt. The persona is
   * built from the prompt alone. Default none.
   */
  messages?: readonly HostedMessage[];
  /** New or changed history items, ingested (embedded, no LLM call) before the persona is built. Omit when the store already has them. */
  history?: HistorySource;
  /** Steers which parts of the history matter (embedded with the prompt; not sent to the model). Default: the personalizer's. */
  instruction?: string;
  /** Persona budget for this call, in the model's tokens; 0 for no persona. Default: the adapter's `budget`. */
  budget?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Token and cost accounting of one hosted call. */
export interface HostedUsage {
  /** Tokens of the persona sent, as the model counts them (see `personaTokenizer`); 0 without a persona. */
  personaTokens: number;
  /** Who counted `personaTokens`: a BPE encoding (`o200k_base`), `anthropic-count-tokens`, or a conservative estimate's id. */
  personaTokenizer: string;
  /** The persona budget held to, in the model's tokens. */
  budget: number;
  /** Input tokens the provider billed, cached and cache-written ones included; undefined when it reported none. */
  promptTokens: number | undefined;
  /** Output tokens the provider billed (reasoning included); undefined when it reported none. */
  completionTokens: number | undefined;
  /** Input tokens read from the provider's prompt cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`). */
  cachedTokens: number | undefined;
  /** Input tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`; OpenAI reports none). */
  cacheWriteTokens: number | undefined;
  /** Cost of the call in US dollars from the adapter's price table; undefined for a model not in it (with a warning). */
  costUsd: number | undefined;
}

/** What `generate` returns. */
export interface HostedGenerateResult {
  /** The model's answer. */
  text: string;
  /** The persona that was sent (empty text when none). */
  persona: Persona;
  /** Token and cost accounting. */
  usage: HostedUsage;
  /** Non-fatal problems: budget fitting, unknown prices, a persona-less call, … */
  warnings: PersonalizeWarning[];
  /** Why the model stopped, as the provider says it (`stop`, `length`, `end_turn`, `max_tokens`, …). */
  finishReason: string | undefined;
}

/** One item of `stream`: the persona first, text deltas as the provider sends them, then the totals. */
export type HostedStreamChunk =
  | {
      /** Sent once, before any text. */
      type: 'persona';
      /** The persona that was sent. */
      persona: Persona;
    }
  | {
      /** A piece of the answer, passed through as it arrives. */
      type: 'text';
      /** The new text. */
      text: string;
    }
  | ({
      /** Sent once, last. */
      type: 'finish';
    } & HostedGenerateResult);

/** A hosted LLM with persona injection. `createOpenAIAdapter` and `createAnthropicAdapter` return one. */
export interface HostedAdapter {
  /** The model id every call uses. */
  readonly model: string;
  /** The personalizer that builds personas: ingest or forget users through it. */
  readonly personalizer: Personalizer;
  /** Builds the persona for the prompt and calls the model once. */
  generate(request: HostedGenerateRequest): Promise<HostedGenerateResult>;
  /** Like `generate`, streaming the answer. Breaking out of the loop aborts the request. */
  stream(request: HostedGenerateRequest): AsyncIterable<HostedStreamChunk>;
  /** Releases the personalizer when the adapter created it. */
  dispose(): Promise<void>;
}

/** The earlier turns of a request, checked: each a `user` or `assistant` turn with text. */
export function earlierMessages(messages: readonly HostedMessage[] | undefined): HostedMessage[] {
  if (messages === undefined) return [];
  if (!Array.isArray(messages)) {
    throw new InvalidArgumentError(
      'messages',
      'messages must be an array of earlier turns, such as [{ role: "user", content: "Hi" }].',
    );
  }
  return messages.map((message: unknown, index) => {
    const { role, content } = (message ?? {}) as Partial<HostedMessage>;
    if ((role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
      throw new InvalidArgumentError(
        'messages',
        `messages[${index}] must be { role: "user" | "assistant", content: string }. ` +
          "Put system instructions in the adapter's `system` setting and the new message in `prompt`.",
      );
    }
    return { role, content };
  });
}
