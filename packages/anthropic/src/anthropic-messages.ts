import type Anthropic from '@anthropic-ai/sdk';
import type { FinishReason, Persona, ToolCall, UserplugWarning } from '@userplug/core';
import {
  type CheckedRequest,
  malformedResponse,
  type ReportedUsage,
  unsupportedSettingWarnings,
  type VendorAnswer,
  type VendorFinish,
  type VendorStreamPart,
} from '@userplug/provider-utils';
import { z } from 'zod';
import { anthropicIdentity } from './normalize-anthropic-error.js';

/** A Messages request body: the mapped fields, then `providerOptions.anthropic` as given. */
export type MessagesBody = Record<string, unknown> & { model: string; max_tokens: number };

/** One block of `system`. */
export interface SystemBlock {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral' };
}

const usageSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

type ProviderUsage = z.infer<typeof usageSchema>;

const blockSchema = z.object({
  type: z.string(),
  text: z.string().nullish(),
  id: z.string().nullish(),
  name: z.string().nullish(),
  input: z.unknown().optional(),
});

const messageSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  content: z.array(blockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
});

const eventSchema = z.object({
  type: z.string(),
  index: z.number().nullish(),
  message: z
    .object({ id: z.string().nullish(), model: z.string().nullish(), usage: usageSchema.nullish() })
    .nullish(),
  content_block: blockSchema.nullish(),
  delta: z
    .object({
      type: z.string().nullish(),
      text: z.string().nullish(),
      partial_json: z.string().nullish(),
      stop_reason: z.string().nullish(),
    })
    .nullish(),
  usage: usageSchema.nullish(),
});

const finishReasons: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool-calls',
  refusal: 'content-filter',
};

/** Anthropic's `stop_reason` in userplug's words. */
export function anthropicFinishReason(raw: string | undefined): FinishReason {
  return (raw === undefined ? undefined : finishReasons[raw]) ?? 'other';
}

/** System blocks: your instructions, the stable persona marked for caching, the query-dependent persona. */
export function systemBlocks(system: string | undefined, persona: Persona | undefined): SystemBlock[] {
  const blocks: SystemBlock[] = [];
  if (system) blocks.push({ type: 'text', text: system });
  if (persona?.text) {
    // The stable block is the cache breakpoint: everything up to it is reused while the user's history is unchanged.
    if (persona.stableText) {
      blocks.push({ type: 'text', text: persona.stableText, cache_control: { type: 'ephemeral' } });
    }
    if (persona.dynamicText) blocks.push({ type: 'text', text: persona.dynamicText });
  }
  return blocks;
}

/** What the adapter's settings add to every body. */
export interface MessagesBodyDefaults {
  /** The model id. */
  model: string;
  /** The adapter's system instructions. */
  system: string | undefined;
  /** The adapter's `max_tokens`. */
  maxOutputTokens: number;
}

function toolChoiceOf(choice: NonNullable<CheckedRequest['toolChoice']>) {
  if (typeof choice !== 'string') return { type: 'tool', name: choice.toolName };
  return { type: choice === 'required' ? 'any' : choice };
}

/**
 * The Messages body of a request: system blocks, earlier turns and the prompt, the sampling settings, tools,
 * a JSON schema as `output_config.format`, then `providerOptions.anthropic` as given (it wins on a clash).
 */
export function messagesBody(
  request: CheckedRequest,
  persona: Persona,
  defaults: MessagesBodyDefaults,
  warnings: UserplugWarning[],
): MessagesBody {
  warnings.push(...unsupportedSettingWarnings(request, ['seed'], 'Anthropic'));
  const format = request.responseFormat;
  if (format?.type === 'json' && format.schema === undefined) {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'responseFormat',
      message:
        'Anthropic returns JSON only to a schema: pass `responseFormat.schema` (a JSON Schema). The call went on with free text.',
    });
  }
  const system = systemBlocks(request.system ?? defaults.system, persona);
  return {
    model: defaults.model,
    max_tokens: request.maxOutputTokens ?? defaults.maxOutputTokens,
    ...(system.length > 0 ? { system } : {}),
    messages: [...request.messages, { role: 'user', content: request.prompt }],
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.topK === undefined ? {} : { top_k: request.topK }),
    ...(request.stop.length === 0 ? {} : { stop_sequences: request.stop }),
    ...(request.tools.length === 0
      ? {}
      : {
          tools: request.tools.map((tool) => ({
            name: tool.name,
            ...(tool.description === undefined ? {} : { description: tool.description }),
            input_schema: tool.inputSchema,
          })),
        }),
    ...(request.toolChoice === undefined ? {} : { tool_choice: toolChoiceOf(request.toolChoice) }),
    ...(format?.type === 'json' && format.schema !== undefined
      ? { output_config: { format: { type: 'json_schema', schema: format.schema } } }
      : {}),
    ...request.providerOptions?.anthropic,
  };
}

function reportedUsage(usage: ProviderUsage | undefined): ReportedUsage | undefined {
  const input = usage?.input_tokens ?? undefined;
  const output = usage?.output_tokens ?? undefined;
  if (input === undefined || output === undefined) return undefined;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheWrite = usage?.cache_creation_input_tokens ?? 0;
  // Anthropic counts uncached input apart from cache reads and writes; userplug's input tokens include them.
  return {
    inputTokens: input + cacheRead + cacheWrite,
    outputTokens: output,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

function refusals(stopReason: string | undefined): UserplugWarning[] {
  return stopReason === 'refusal'
    ? [{ type: 'refusal', message: 'The model declined to answer (stop_reason "refusal").' }]
    : [];
}

function malformed(error: z.ZodError, what: string) {
  return malformedResponse(anthropicIdentity, 'Messages', error.issues[0]?.message ?? what, error);
}

function toolCallOf(block: z.infer<typeof blockSchema>, input: string): ToolCall {
  return { toolCallId: block.id ?? '', toolName: block.name ?? '', input };
}

/** Sends a body and reads the whole answer. */
export async function createMessage(
  client: Anthropic,
  body: MessagesBody,
  signal: AbortSignal,
): Promise<VendorAnswer> {
  const response: unknown = await client.messages.create(
    body as unknown as Anthropic.MessageCreateParamsNonStreaming,
    { signal },
  );
  const parsed = messageSchema.safeParse(response);
  if (!parsed.success) throw malformed(parsed.error, 'unexpected body');
  const message = parsed.data;
  const stopReason = message.stop_reason ?? undefined;
  return {
    text: message.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join(''),
    toolCalls: message.content
      .filter((block) => block.type === 'tool_use')
      .map((block) => toolCallOf(block, JSON.stringify(block.input ?? {}))),
    rawFinishReason: stopReason,
    usage: reportedUsage(message.usage),
    responseId: message.id ?? undefined,
    modelId: message.model ?? undefined,
    warnings: refusals(stopReason),
  };
}

/** Sends a body for a stream: text deltas as they arrive, each tool call when its block ends. */
export async function* streamMessage(
  client: Anthropic,
  body: MessagesBody,
  signal: AbortSignal,
): AsyncGenerator<VendorStreamPart, VendorFinish> {
  const events: AsyncIterable<unknown> = await client.messages.create(
    { ...(body as unknown as Anthropic.MessageCreateParamsStreaming), stream: true },
    { signal },
  );
  let usage: ProviderUsage | undefined;
  let stopReason: string | undefined;
  let responseId: string | undefined;
  let modelId: string | undefined;
  const toolBlocks = new Map<number, { block: z.infer<typeof blockSchema>; input: string }>();
  for await (const raw of events) {
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success) throw malformed(parsed.error, 'unexpected event');
    const event = parsed.data;
    const index = event.index ?? 0;
    if (event.type === 'message_start') {
      usage = event.message?.usage ?? undefined;
      responseId = event.message?.id ?? undefined;
      modelId = event.message?.model ?? undefined;
    } else if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use') {
      toolBlocks.set(index, { block: event.content_block, input: '' });
    } else if (event.type === 'content_block_delta') {
      if (event.delta?.type === 'text_delta' && event.delta.text)
        yield { type: 'text-delta', text: event.delta.text };
      const tool = toolBlocks.get(index);
      if (event.delta?.type === 'input_json_delta' && tool) tool.input += event.delta.partial_json ?? '';
    } else if (event.type === 'content_block_stop') {
      const tool = toolBlocks.get(index);
      if (tool) {
        toolBlocks.delete(index);
        yield { type: 'tool-call', ...toolCallOf(tool.block, tool.input || '{}') };
      }
    } else if (event.type === 'message_delta') {
      if (event.delta?.stop_reason) stopReason = event.delta.stop_reason;
      // message_delta carries cumulative counts; a null one keeps message_start's value.
      const merged: ProviderUsage = { ...usage };
      for (const [key, value] of Object.entries(event.usage ?? {}) as Array<
        [keyof ProviderUsage, number | null]
      >) {
        if (value !== null && value !== undefined) merged[key] = value;
      }
      usage = merged;
    }
  }
  return {
    rawFinishReason: stopReason,
    usage: reportedUsage(usage),
    responseId,
    modelId,
    warnings: refusals(stopReason),
  };
}
