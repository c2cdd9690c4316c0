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
import type OpenAI from 'openai';
import { z } from 'zod';
import { openAIIdentity } from './normalize-openai-error.js';

/** A Chat Completions request body: the mapped fields, then `providerOptions.openai` as given. */
export type ChatCompletionsBody = Record<string, unknown> & { model: string };

const usageSchema = z
  .object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
  })
  .nullish();

const completionSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string(),
                function: z.object({ name: z.string(), arguments: z.string().nullish() }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema,
});

const chunkSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      delta: z
        .object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                index: z.number(),
                id: z.string().nullish(),
                function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

const finishReasons: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  content_filter: 'content-filter',
};

/** OpenAI's `finish_reason` in userplug's words. */
export function openAIFinishReason(raw: string | undefined): FinishReason {
  return (raw === undefined ? undefined : finishReasons[raw]) ?? 'other';
}

/** What the adapter's settings add to every body. */
export interface ChatBodyDefaults {
  /** The model id. */
  model: string;
  /** The adapter's system instructions. */
  system: string | undefined;
  /** The adapter's `max_completion_tokens`. */
  maxOutputTokens: number | undefined;
}

/**
 * The Chat Completions body of a request: `[system: instructions?] [system: persona?] [earlier turns] [user: prompt]`,
 * the sampling settings, tools, response format, then `providerOptions.openai` as given (it wins on a clash).
 */
export function chatCompletionsBody(
  request: CheckedRequest,
  persona: Persona,
  defaults: ChatBodyDefaults,
  warnings: UserplugWarning[],
): ChatCompletionsBody {
  warnings.push(...unsupportedSettingWarnings(request, ['topK'], 'OpenAI Chat Completions'));
  const system = request.system ?? defaults.system;
  const maxOutputTokens = request.maxOutputTokens ?? defaults.maxOutputTokens;
  const format = request.responseFormat;
  const choice = request.toolChoice;
  return {
    model: defaults.model,
    messages: [
      ...(system ? [{ role: 'system', content: system }] : []),
      // stableText leads the persona block, so the per-user prefix stays byte-identical across prompts.
      ...(persona.text ? [{ role: 'system', content: persona.stableText + persona.dynamicText }] : []),
      ...request.messages,
      { role: 'user', content: request.prompt },
    ],
    ...(maxOutputTokens === undefined ? {} : { max_completion_tokens: maxOutputTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.stop.length === 0 ? {} : { stop: request.stop }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.tools.length === 0
      ? {}
      : {
          tools: request.tools.map((tool) => ({
            type: 'function',
            function: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: tool.inputSchema,
            },
          })),
        }),
    ...(choice === undefined
      ? {}
      : {
          tool_choice:
            typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.toolName } },
        }),
    ...(format?.type !== 'json'
      ? {}
      : format.schema === undefined
        ? { response_format: { type: 'json_object' } }
        : {
            response_format: {
              type: 'json_schema',
              json_schema: {
                name: format.name ?? 'response',
                ...(format.description === undefined ? {} : { description: format.description }),
                schema: format.schema,
              },
            },
          }),
    ...request.providerOptions?.openai,
  };
}

function reportedUsage(usage: z.infer<typeof usageSchema>): ReportedUsage | undefined {
  if (!usage) return undefined;
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: undefined,
  };
}

function refusal(text: string): UserplugWarning {
  return { type: 'refusal', message: `The model refused: ${text}` };
}

function malformed(error: z.ZodError, what: string) {
  return malformedResponse(openAIIdentity, 'Chat Completions', error.issues[0]?.message ?? what, error);
}

/** Sends a body and reads the whole answer. */
export async function createChatCompletion(
  client: OpenAI,
  body: ChatCompletionsBody,
  signal: AbortSignal,
): Promise<VendorAnswer> {
  const response: unknown = await client.chat.completions.create(
    body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
    { signal },
  );
  const parsed = completionSchema.safeParse(response);
  if (!parsed.success) throw malformed(parsed.error, 'unexpected body');
  const { message, finish_reason } = parsed.data.choices[0]!;
  return {
    text: message.content ?? '',
    toolCalls: (message.tool_calls ?? []).map((call) => ({
      toolCallId: call.id,
      toolName: call.function.name,
      input: call.function.arguments ?? '',
    })),
    rawFinishReason: finish_reason ?? undefined,
    usage: reportedUsage(parsed.data.usage),
    responseId: parsed.data.id ?? undefined,
    modelId: parsed.data.model ?? undefined,
    warnings: message.refusal ? [refusal(message.refusal)] : [],
  };
}

/** Sends a body for a stream: text deltas as they arrive, tool calls once their arguments are complete. */
export async function* streamChatCompletion(
  client: OpenAI,
  body: ChatCompletionsBody,
  signal: AbortSignal,
): AsyncGenerator<VendorStreamPart, VendorFinish> {
  const events: AsyncIterable<unknown> = await client.chat.completions.create(
    {
      ...(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming),
      stream: true,
      stream_options: { include_usage: true },
    },
    { signal },
  );
  const finish: VendorFinish = {
    rawFinishReason: undefined,
    usage: undefined,
    responseId: undefined,
    modelId: undefined,
    warnings: [],
  };
  // Tool calls arrive in pieces, keyed by index: the first piece names the call, the rest append arguments.
  const toolCalls = new Map<number, ToolCall>();
  for await (const event of events) {
    const parsed = chunkSchema.safeParse(event);
    if (!parsed.success) throw malformed(parsed.error, 'unexpected chunk');
    const chunk = parsed.data;
    finish.responseId ??= chunk.id ?? undefined;
    finish.modelId ??= chunk.model ?? undefined;
    if (chunk.usage) finish.usage = reportedUsage(chunk.usage);
    for (const choice of chunk.choices) {
      if (choice.finish_reason) finish.rawFinishReason = choice.finish_reason;
      if (choice.delta?.refusal) finish.warnings.push(refusal(choice.delta.refusal));
      if (choice.delta?.content) yield { type: 'text-delta', text: choice.delta.content };
      for (const piece of choice.delta?.tool_calls ?? []) {
        const call = toolCalls.get(piece.index) ?? { toolCallId: '', toolName: '', input: '' };
        if (piece.id) call.toolCallId = piece.id;
        if (piece.function?.name && !call.toolName) call.toolName = piece.function.name;
        call.input += piece.function?.arguments ?? '';
        toolCalls.set(piece.index, call);
      }
    }
  }
  for (const index of [...toolCalls.keys()].sort((left, right) => left - right)) {
    yield { type: 'tool-call', ...toolCalls.get(index)! };
  }
  return finish;
}
