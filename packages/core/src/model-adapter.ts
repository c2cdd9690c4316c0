import type { Personalizer } from './create-personalizer.js';
import type { HistorySource } from './history-item.js';
import type { Persona } from './personalize-result.js';
import type { UserplugWarning } from './userplug-warning.js';

/** An earlier turn of the conversation. */
export interface ConversationMessage {
  /** Who said it. */
  role: 'user' | 'assistant';
  /** What was said. */
  content: string;
}

/** A tool the model may call, described by a JSON Schema of its input. */
export interface ToolDefinition {
  /** The tool's name, as the model will call it. */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** JSON Schema (an object schema) of the tool's input. */
  inputSchema: Readonly<Record<string, unknown>>;
}

/** Which tool the model must call, if any. Default `auto`. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string };

/** The shape of the answer: free text, or JSON (matching `schema` when given). Default `text`. */
export type ResponseFormat =
  | { type: 'text' }
  | {
      type: 'json';
      /** JSON Schema the answer must match; without it, any JSON object. */
      schema?: Readonly<Record<string, unknown>>;
      /** Name of the schema, for providers that take one. */
      name?: string;
      /** What the output is, for providers that take one. */
      description?: string;
    };

/** A tool call the model made. */
export interface ToolCall {
  /** The provider's id of this call, to answer it with a tool result. */
  toolCallId: string;
  /** The tool's name. */
  toolName: string;
  /** The input, as the JSON text the model produced. */
  input: string;
}

/** One call to a model adapter: the same shape for hosted (`@userplug/openai`, `@userplug/anthropic`) and local (`@userplug/onnx`) models. */
export interface GenerateRequest {
  /** The user; every store operation is scoped to it. */
  userId: string;
  /** The user's message, sent last. The persona is built from it. */
  prompt: string;
  /** Earlier turns of the conversation, oldest first, sent after the persona and before the prompt. Default none. */
  messages?: readonly ConversationMessage[];
  /** New or changed history items, ingested (embedded, no LLM call) before the persona is built. Omit when the store already has them. */
  history?: HistorySource;
  /** Steers which parts of the history matter (embedded with the prompt; not sent to the model). Default: the personalizer's. */
  instruction?: string;
  /** Persona budget for this call, in the model's tokens; 0 for no persona. Default: the adapter's `budget`. */
  budget?: number;
  /** System instructions for this call, sent before the persona. Default: the adapter's `system`. */
  system?: string;
  /** Most tokens to generate. Default: the adapter's `maxOutputTokens`, else the model's own limit. */
  maxOutputTokens?: number;
  /** Sampling temperature; 0 is greedy. Default: the provider's. */
  temperature?: number;
  /** Nucleus sampling mass, (0, 1]. Default: the provider's. */
  topP?: number;
  /** Sample only from the k most likely tokens. Default: the provider's (not every provider supports it). */
  topK?: number;
  /** Generation ends before the first of these strings. Default none. */
  stop?: string | readonly string[];
  /** Seed for reproducible sampling, where the provider supports it. */
  seed?: number;
  /** Tools the model may call. Default none. */
  tools?: readonly ToolDefinition[];
  /** Whether and which tool the model must call. Default `auto`. */
  toolChoice?: ToolChoice;
  /** Free text or JSON. Default `text`. */
  responseFormat?: ResponseFormat;
  /**
   * Vendor-specific request fields, passed through unchanged under the provider's id, such as
   * `{ openai: { reasoning_effort: 'low' } }` or `{ anthropic: { thinking: { type: 'enabled', budget_tokens: 1024 } } }`.
   */
  providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Cancels the call: it rejects with a `UserplugAbortError` and the vendor request is stopped. */
  signal?: AbortSignal;
}

/** Why the model stopped, in one vocabulary across providers (the AI SDK's). */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

/** Token and cost accounting of one call, the same on every adapter. */
export interface ModelUsage {
  /** Tokens of the persona sent, as the model counts them (see `personaTokenizer`); 0 without a persona. */
  personaTokens: number;
  /** Who counted `personaTokens`: a BPE encoding (`o200k_base`), `anthropic-count-tokens`, a local tokenizer's id, or an estimate's id. */
  personaTokenizer: string;
  /** The persona budget held to, in the model's tokens. */
  budget: number;
  /** Input tokens (prompt, persona and earlier turns; cached and cache-written ones included); undefined when the provider reported none. */
  inputTokens: number | undefined;
  /** Output tokens (reasoning included); undefined when the provider reported none. */
  outputTokens: number | undefined;
  /** inputTokens + outputTokens, when both are known. */
  totalTokens: number | undefined;
  /** Input tokens read from a prompt cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`, a local model's reused persona prefix). */
  cachedInputTokens: number | undefined;
  /** Input tokens written to a prompt cache (Anthropic `cache_creation_input_tokens`); undefined where the provider reports none. */
  cacheWriteTokens: number | undefined;
  /** Soft-prompt positions among the input tokens (local models); undefined for hosted ones. */
  softTokens?: number;
  /** Cost of the call in US dollars; 0 for local models, undefined for a model without a known price (with a warning). */
  costUsd: number | undefined;
}

/** Wall-clock timings of one call, in milliseconds. */
export interface ModelTimings {
  /** From the call to the first text (persona building included). Undefined when no text came. */
  timeToFirstTokenMs: number | undefined;
  /** The whole call. */
  durationMs: number;
  /** Output tokens after the first, per second from the first text to the end; undefined when not measured (an answer that was not streamed, fewer than two tokens). */
  outputTokensPerSecond: number | undefined;
}

/** What `generate` returns; `stream`'s `finish` part carries the same fields. */
export interface GenerateResult {
  /** The model's answer (without a stop sequence). */
  text: string;
  /** Tool calls the model made, in order; empty when none. */
  toolCalls: ToolCall[];
  /** Why the model stopped. */
  finishReason: FinishReason;
  /** The provider's own finish reason (`end_turn`, `max_tokens`, `stop`, …), when it sent one. */
  rawFinishReason: string | undefined;
  /** The persona that was sent (empty text when none). */
  persona: Persona;
  /** Token and cost accounting. */
  usage: ModelUsage;
  /** Timings. */
  timings: ModelTimings;
  /** Non-fatal problems: budget fitting, unsupported settings, unknown prices, … */
  warnings: UserplugWarning[];
  /** The provider's response id and the model that answered, when known. */
  response: { id: string | undefined; modelId: string };
}

/** One part of `stream`, in order: `persona`, then `text-delta`s and `tool-call`s as they arrive, then `finish`. */
export type StreamPart =
  | {
      /** Sent once, before any text. */
      type: 'persona';
      /** The persona that was sent. */
      persona: Persona;
      /** Warnings known before generation (budget fitting, unsupported settings). */
      warnings: UserplugWarning[];
    }
  | {
      /** A piece of the answer, passed through as it arrives. */
      type: 'text-delta';
      /** The new text. */
      text: string;
    }
  | ({
      /** A complete tool call. */
      type: 'tool-call';
    } & ToolCall)
  | ({
      /** Sent once, last. */
      type: 'finish';
    } & GenerateResult);

/** A model with the user plugged in. `createOpenAIAdapter`, `createAnthropicAdapter` and `createOnnxAdapter` return one. */
export interface ModelAdapter {
  /** Stable provider id: `openai`, `anthropic`, `onnx`. */
  readonly provider: string;
  /** The model id every call uses. */
  readonly modelId: string;
  /** The personalizer that builds personas: ingest or forget users through it. */
  readonly personalizer: Personalizer;
  /** Builds the persona for the prompt and calls the model once. */
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Like `generate`, streaming the answer. Breaking out of the loop aborts the request. */
  stream(request: GenerateRequest): AsyncIterable<StreamPart>;
  /** Releases the personalizer when the adapter created it, and the model when it is local. */
  dispose(): Promise<void>;
}
