import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Message,
  LanguageModelV4StreamPart,
  SharedV4Warning,
} from '@ai-sdk/provider';
import {
  AbortError,
  InvalidArgumentError,
  type Persona,
  type PersonalizeRequest,
  type PersonalizeResult,
  type Personalizer,
  type UserplugWarning,
} from '@userplug/core';
import type { LanguageModelMiddleware } from 'ai';

/** Settings of {@link userplugMiddleware}. */
export interface UserplugMiddlewareSettings {
  /** Builds the personas from the user's stored history. Required. */
  personalizer: Personalizer;
  /**
   * The user whose persona is injected when a call names none. A call names its user with
   * `providerOptions: { userplug: { userId } }`, so one wrapped model serves every user. Default none: a call
   * without a user goes on without a persona, with a warning.
   */
  userId?: string;
  /** Persona budget, in the personalizer's tokens; 0 injects nothing. Default: the personalizer's budget. */
  budget?: number;
  /** Steers which parts of the history matter (embedded with the user's text, not sent). Default: the personalizer's. */
  instruction?: string;
  /** Marks the stable persona message `providerOptions.anthropic.cacheControl: { type: 'ephemeral' }`, which other providers ignore. Default true. */
  cacheControl?: boolean;
  /**
   * Tool-loop steps (the prompt ends with tool results, not a user message) never compute a
   * persona. `'reuse'` sends again, byte-identical, the persona computed for that turn's user
   * message, so the final answer stays personalized and the prompt cache stays warm; `'none'`
   * sends none. Default `'reuse'`.
   */
  toolSteps?: 'reuse' | 'none';
  /** Called with every personalization, for logging or showing attributions. Default none. */
  onPersona?: (result: PersonalizeResult) => void;
}

/** Persona messages remembered per user turn, for the tool-loop steps that follow it. */
const rememberedTurns = 256;

function textOf(message: LanguageModelV4Message): string {
  if (message.role !== 'user') return '';
  return message.content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n')
    .trim();
}

function lastIndexOf<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) if (predicate(items[index]!)) return index;
  return -1;
}

/** The app's leading system messages stay first; the persona follows them, the conversation comes after. */
function withPersona(
  params: LanguageModelV4CallOptions,
  personaMessages: readonly LanguageModelV4Message[],
): LanguageModelV4CallOptions {
  if (personaMessages.length === 0) return { ...params };
  const prompt = params.prompt;
  let insertAt = 0;
  while (insertAt < prompt.length && prompt[insertAt]!.role === 'system') insertAt++;
  return { ...params, prompt: [...prompt.slice(0, insertAt), ...personaMessages, ...prompt.slice(insertAt)] };
}

/** What a call may say under `providerOptions.userplug`. */
interface CallOptions {
  userId?: string;
  budget?: number;
  instruction?: string;
}

/** A userplug warning in the AI SDK's words: unsupported and compatibility warnings keep their kind. */
export function toAiSdkWarning(warning: UserplugWarning): SharedV4Warning {
  if (warning.type === 'unsupported-setting') {
    return { type: 'unsupported', feature: warning.setting, details: `userplug: ${warning.message}` };
  }
  if (warning.type === 'compatibility') {
    return { type: 'compatibility', feature: warning.feature, details: `userplug: ${warning.message}` };
  }
  return { type: 'other', message: `userplug ${warning.type}: ${warning.message}` };
}

function callOptionsOf(params: LanguageModelV4CallOptions): CallOptions {
  const options = params.providerOptions?.userplug as Record<string, unknown> | undefined;
  if (options === undefined) return {};
  const { userId, budget, instruction } = options;
  if (userId !== undefined && (typeof userId !== 'string' || userId === '')) {
    throw new InvalidArgumentError(
      'providerOptions.userplug.userId',
      'providerOptions.userplug.userId must be a non-empty string: the id of the user the call is for.',
    );
  }
  if (budget !== undefined && (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 0)) {
    throw new InvalidArgumentError(
      'providerOptions.userplug.budget',
      `providerOptions.userplug.budget must be a whole number ≥ 0 (tokens), got ${String(budget)}.`,
    );
  }
  if (instruction !== undefined && typeof instruction !== 'string') {
    throw new InvalidArgumentError(
      'providerOptions.userplug.instruction',
      'providerOptions.userplug.instruction must be a string.',
    );
  }
  return {
    ...(userId === undefined ? {} : { userId }),
    ...(budget === undefined ? {} : { budget }),
    ...(instruction === undefined ? {} : { instruction }),
  };
}

/** The call without its `userplug` options: the wrapped model has no use for them. */
function withoutUserplugOptions(params: LanguageModelV4CallOptions): LanguageModelV4CallOptions {
  if (params.providerOptions?.userplug === undefined) return { ...params };
  const { userplug: _userplug, ...providerOptions } = params.providerOptions;
  return { ...params, providerOptions };
}

/**
 * Middleware for the AI SDK's `wrapLanguageModel` that puts the user's query-aware persona into
 * the prompt: a stable system message (cache-marked for Anthropic), then a query-dependent one,
 * after your own system messages. The user comes with each call (`providerOptions.userplug.userId`,
 * else the `userId` setting), so one wrapped model serves every user. It computes the persona only on
 * a genuine new user turn (the prompt ends with a user message), never on tool-loop steps; when the
 * persona cannot be computed the call goes on without one and the result carries a warning. An aborted
 * call (`abortSignal`) stops the persona work and rejects.
 */
export function userplugMiddleware(settings: UserplugMiddlewareSettings): LanguageModelMiddleware {
  if (typeof settings?.personalizer?.personalize !== 'function') {
    throw new InvalidArgumentError(
      'personalizer',
      'userplugMiddleware needs a personalizer. Pass `personalizer: createPersonalizer()` from @userplug/core.',
    );
  }
  if (settings.userId !== undefined && (typeof settings.userId !== 'string' || settings.userId === '')) {
    throw new InvalidArgumentError(
      'userId',
      'userId must be a non-empty string, or left out to name the user per call with `providerOptions.userplug.userId`.',
    );
  }
  const { personalizer } = settings;
  const cacheControl = settings.cacheControl ?? true;
  const toolSteps = settings.toolSteps ?? 'reuse';
  const turns = new Map<string, readonly LanguageModelV4Message[]>();
  const warningsOf = new WeakMap<LanguageModelV4CallOptions, SharedV4Warning[]>();

  function personaMessages(persona: Persona): LanguageModelV4Message[] {
    if (persona.text === '') return [];
    const messages: LanguageModelV4Message[] = [];
    if (persona.stableText) {
      messages.push({
        role: 'system',
        content: persona.stableText,
        ...(cacheControl ? { providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } } : {}),
      });
    }
    if (persona.dynamicText) messages.push({ role: 'system', content: persona.dynamicText });
    return messages;
  }

  function remember(key: string, messages: readonly LanguageModelV4Message[]): void {
    turns.delete(key);
    turns.set(key, messages);
    if (turns.size > rememberedTurns) turns.delete(turns.keys().next().value!);
  }

  /** The call unchanged but for its userplug options, carrying `warnings`. */
  function unchanged(
    params: LanguageModelV4CallOptions,
    warnings: UserplugWarning[],
  ): LanguageModelV4CallOptions {
    const call = withoutUserplugOptions(params);
    if (warnings.length > 0) warningsOf.set(call, warnings.map(toAiSdkWarning));
    return call;
  }

  async function transformParams({
    params,
  }: {
    params: LanguageModelV4CallOptions;
  }): Promise<LanguageModelV4CallOptions> {
    const options = callOptionsOf(params);
    const userId = options.userId ?? settings.userId;
    const prompt = params.prompt;
    const userIndex = lastIndexOf(prompt, (message) => message.role === 'user');
    if (userIndex < 0) return unchanged(params, []);
    if (userId === undefined) {
      return unchanged(params, [
        {
          type: 'persona-unavailable',
          message:
            'the call named no user, so no persona was added. Pass `providerOptions: { userplug: { userId } }` or the `userId` setting.',
        },
      ]);
    }
    const text = textOf(prompt[userIndex]!);
    // Keyed by user too: one middleware serves many users, and equal words of two users are two turns.
    const turnKey = `${userId}\u0000${userIndex}\u0000${text}`;
    if (userIndex !== prompt.length - 1) {
      // A tool-loop step: the turn's persona was computed when its user message arrived.
      const known = toolSteps === 'reuse' ? turns.get(turnKey) : undefined;
      return known ? withPersona(withoutUserplugOptions(params), known) : unchanged(params, []);
    }
    if (text === '') {
      return unchanged(params, [
        {
          type: 'persona-unavailable',
          message: 'the user message has no text to personalize on; no persona was added.',
        },
      ]);
    }
    let result: PersonalizeResult;
    try {
      const budget = options.budget ?? settings.budget;
      const instruction = options.instruction ?? settings.instruction;
      const request: PersonalizeRequest = {
        userId,
        prompt: text,
        ...(budget === undefined ? {} : { budget }),
        ...(instruction === undefined ? {} : { instruction }),
        ...(params.abortSignal === undefined ? {} : { signal: params.abortSignal }),
      };
      result = await personalizer.personalize(request);
    } catch (error) {
      // An aborted call ends here: going on to the model would be what the caller cancelled.
      if (AbortError.isInstance(error) || params.abortSignal?.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      return unchanged(params, [
        {
          type: 'persona-unavailable',
          message: `no persona for user "${userId}" on this turn, the call went on without one: ${reason}`,
        },
      ]);
    }
    settings.onPersona?.(result);
    const messages = personaMessages(result.persona);
    remember(turnKey, messages);
    const transformed = withPersona(withoutUserplugOptions(params), messages);
    if (result.warnings.length > 0) warningsOf.set(transformed, result.warnings.map(toAiSdkWarning));
    return transformed;
  }

  return {
    specificationVersion: 'v4',
    transformParams,
    async wrapGenerate({ doGenerate, params }) {
      const result = await doGenerate();
      const extra = warningsOf.get(params);
      return extra ? { ...result, warnings: [...result.warnings, ...extra] } : result;
    },
    async wrapStream({ doStream, params }) {
      const result = await doStream();
      const extra = warningsOf.get(params);
      if (!extra) return result;
      let started = false;
      const stream = result.stream.pipeThrough(
        new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
          transform(part, controller) {
            if (!started) {
              started = true;
              // Warnings travel on the stream-start part; add one if the model sent none.
              if (part.type === 'stream-start') {
                controller.enqueue({ ...part, warnings: [...part.warnings, ...extra] });
                return;
              }
              controller.enqueue({ type: 'stream-start', warnings: extra });
            }
            controller.enqueue(part);
          },
        }),
      );
      return { ...result, stream };
    },
  };
}
