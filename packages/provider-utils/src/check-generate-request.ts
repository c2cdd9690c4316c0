import {
  type ConversationMessage,
  type GenerateRequest,
  InvalidArgumentError,
  type ToolDefinition,
  type UserplugWarning,
} from '@userplug/core';
import { requireNumberInRange, requireWholeNumber } from './validate-settings.js';

/** A request that passed {@link checkGenerateRequest}, its lists normalised. */
export interface CheckedRequest extends GenerateRequest {
  /** Earlier turns, checked (empty when none). */
  messages: ConversationMessage[];
  /** Stop sequences as a list (empty when none). */
  stop: string[];
  /** Tools, checked (empty when none). */
  tools: ToolDefinition[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The earlier turns of a request, checked: each a `user` or `assistant` turn with text. */
export function earlierMessages(messages: readonly ConversationMessage[] | undefined): ConversationMessage[] {
  if (messages === undefined) return [];
  if (!Array.isArray(messages)) {
    throw new InvalidArgumentError(
      'messages',
      'messages must be an array of earlier turns, such as [{ role: "user", content: "Hi" }].',
    );
  }
  return messages.map((message: unknown, index) => {
    const { role, content } = (message ?? {}) as Partial<ConversationMessage>;
    if ((role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
      throw new InvalidArgumentError(
        'messages',
        `messages[${index}] must be { role: "user" | "assistant", content: string }. ` +
          'Put system instructions in `system` and the new message in `prompt`.',
      );
    }
    return { role, content };
  });
}

function stopSequences(stop: GenerateRequest['stop']): string[] {
  const list =
    stop === undefined ? [] : typeof stop === 'string' ? [stop] : Array.isArray(stop) ? [...stop] : [stop];
  list.forEach((sequence, index) => {
    if (typeof sequence !== 'string' || sequence === '') {
      throw new InvalidArgumentError(
        'stop',
        `stop[${index}] must be a non-empty string; pass stop sequences as a string or an array of strings.`,
      );
    }
  });
  return list;
}

function checkTools(tools: GenerateRequest['tools']): ToolDefinition[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) {
    throw new InvalidArgumentError('tools', 'tools must be an array of { name, description?, inputSchema }.');
  }
  const names = new Set<string>();
  return tools.map((tool: unknown, index) => {
    const { name, description, inputSchema } = (tool ?? {}) as Partial<ToolDefinition>;
    if (typeof name !== 'string' || name === '' || names.has(name)) {
      throw new InvalidArgumentError(
        'tools',
        `tools[${index}] needs a unique, non-empty \`name\`${typeof name === 'string' && name !== '' ? ` ("${name}" is used twice)` : ''}.`,
      );
    }
    if (!isObject(inputSchema) || (description !== undefined && typeof description !== 'string')) {
      throw new InvalidArgumentError(
        'tools',
        `tools[${index}] ("${name}") needs \`inputSchema\`, a JSON Schema object such as { type: "object", properties: {} }, and a string \`description\` if any.`,
      );
    }
    names.add(name);
    return { name, ...(description === undefined ? {} : { description }), inputSchema };
  });
}

function checkToolChoice(choice: GenerateRequest['toolChoice'], tools: readonly ToolDefinition[]): void {
  if (choice === undefined || choice === 'auto' || choice === 'none' || choice === 'required') return;
  if (isObject(choice) && choice.type === 'tool' && typeof choice.toolName === 'string') {
    if (tools.some((tool) => tool.name === choice.toolName)) return;
    throw new InvalidArgumentError(
      'toolChoice',
      `toolChoice names the tool "${choice.toolName}", which is not among \`tools\`. Add it to \`tools\` or pick another.`,
    );
  }
  throw new InvalidArgumentError(
    'toolChoice',
    `toolChoice must be 'auto', 'none', 'required' or { type: 'tool', toolName }, got ${JSON.stringify(choice)}.`,
  );
}

function checkResponseFormat(format: GenerateRequest['responseFormat']): void {
  if (format === undefined) return;
  if (isObject(format) && format.type === 'text') return;
  if (isObject(format) && format.type === 'json' && (format.schema === undefined || isObject(format.schema)))
    return;
  throw new InvalidArgumentError(
    'responseFormat',
    "responseFormat must be { type: 'text' } or { type: 'json', schema?, name?, description? } with a JSON Schema object as `schema`.",
  );
}

/**
 * Checks a request before any work (ingest, persona, vendor call), so a malformed one costs nothing and names the
 * field and the fix: the user, the prompt, whole-number and ranged settings, stop sequences, earlier turns, tools,
 * the tool choice and the response format.
 */
export function checkGenerateRequest(request: GenerateRequest): CheckedRequest {
  if (!isObject(request)) {
    throw new InvalidArgumentError('request', 'Pass a request object: { userId, prompt, … }.');
  }
  if (typeof request.userId !== 'string' || request.userId === '') {
    throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
  }
  if (typeof request.prompt !== 'string') {
    throw new InvalidArgumentError('prompt', "prompt must be a string. Pass the user's message as `prompt`.");
  }
  requireWholeNumber('budget', request.budget, { unit: 'tokens' });
  requireWholeNumber('maxOutputTokens', request.maxOutputTokens, { minimum: 1, unit: 'tokens' });
  requireNumberInRange('temperature', request.temperature, { minimum: 0 });
  requireNumberInRange('topP', request.topP, { minimum: 0, exclusiveMinimum: true, maximum: 1 });
  requireWholeNumber('topK', request.topK, { minimum: 1 });
  if (request.seed !== undefined && !Number.isSafeInteger(request.seed)) {
    throw new InvalidArgumentError('seed', `seed must be a whole number, got ${String(request.seed)}.`);
  }
  if (request.providerOptions !== undefined && !isObject(request.providerOptions)) {
    throw new InvalidArgumentError(
      'providerOptions',
      "providerOptions must be an object keyed by provider id, such as { openai: { reasoning_effort: 'low' } }.",
    );
  }
  const tools = checkTools(request.tools);
  checkToolChoice(request.toolChoice, tools);
  checkResponseFormat(request.responseFormat);
  return {
    ...request,
    messages: earlierMessages(request.messages),
    stop: stopSequences(request.stop),
    tools,
  };
}

/** The request fields every adapter reads; the others depend on the provider. */
type ProviderDependentField = Exclude<
  keyof GenerateRequest,
  | 'userId'
  | 'prompt'
  | 'messages'
  | 'history'
  | 'instruction'
  | 'budget'
  | 'system'
  | 'signal'
  | 'providerOptions'
>;

/**
 * One `unsupported-setting` warning per field of `unsupported` the request sets (a JSON `responseFormat` counts,
 * `text` does not): the call goes on without them. `who` names the provider or model in the message.
 */
export function unsupportedSettingWarnings(
  request: GenerateRequest,
  unsupported: readonly ProviderDependentField[],
  who: string,
): UserplugWarning[] {
  return unsupported
    .filter((setting) => {
      const value = request[setting];
      if (setting === 'responseFormat') return request.responseFormat?.type === 'json';
      return value !== undefined && !(Array.isArray(value) && value.length === 0);
    })
    .map((setting) => ({
      type: 'unsupported-setting',
      setting,
      message: `${who} does not support \`${setting}\`; the call went on without it.`,
    }));
}
