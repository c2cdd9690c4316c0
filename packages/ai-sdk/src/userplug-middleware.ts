import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Message,
  LanguageModelV4StreamPart,
  SharedV4Warning,
} from '@ai-sdk/provider';
import {
  InvalidArgumentError,
  type Persona,
  type PersonalizeRequest,
  type PersonalizeResult,
  type Personalizer,
} from '@userplug/core';
import type { LanguageModelMiddleware } from 'ai';

/** Settings of {@link userplugMiddleware}. */
export interface UserplugMiddlewareSettings {
  /** Builds the personas from the user's stored history. Required. */
  personalizer: Personalizer;
  /** The user whose persona is injected. Required; create one middleware per user (or per request). */
  userId: string;
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

function warning(message: string): SharedV4Warning {
  return { type: 'other', message: `userplug: ${message}` };
}

/**
 * Middleware for the AI SDK's `wrapLanguageModel` that puts the user's query-aware persona into
 * the prompt: a stable system message (cache-marked for Anthropic), then a query-dependent one,
 * after your own system messages. It computes the persona only on a genuine new user turn (the
 * prompt ends with a user message), never on tool-loop steps; when the persona cannot be computed
 * the call goes on without one and the result carries a warning.
 */
export function userplugMiddleware(settings: UserplugMiddlewareSettings): LanguageModelMiddleware {
  if (typeof settings?.personalizer?.personalize !== 'function') {
    throw new InvalidArgumentError(
      'personalizer',
      'userplugMiddleware needs a personalizer. Pass `personalizer: createPersonalizer()` from @userplug/core.',
    );
  }
  if (typeof settings.userId !== 'string' || settings.userId === '') {
    throw new InvalidArgumentError('userId', 'userplugMiddleware needs the id of the user. Pass `userId`.');
  }
  const { personalizer, userId } = settings;
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

  async function transformParams({
    params,
  }: {
    params: LanguageModelV4CallOptions;
  }): Promise<LanguageModelV4CallOptions> {
    const prompt = params.prompt;
    const userIndex = lastIndexOf(prompt, (message) => message.role === 'user');
    if (userIndex < 0) return params;
    const text = textOf(prompt[userIndex]!);
    const turnKey = `${userIndex}\u0000${text}`;
    if (userIndex !== prompt.length - 1) {
      // A tool-loop step: the turn's persona was computed when its user message arrived.
      const known = toolSteps === 'reuse' ? turns.get(turnKey) : undefined;
      return known ? withPersona(params, known) : params;
    }
    if (text === '') {
      const unchanged = { ...params };
      warningsOf.set(unchanged, [
        warning('the user message has no text to personalize on; no persona was added.'),
      ]);
      return unchanged;
    }
    let result: PersonalizeResult;
    try {
      const request: PersonalizeRequest = {
        userId,
        prompt: text,
        ...(settings.budget === undefined ? {} : { budget: settings.budget }),
        ...(settings.instruction === undefined ? {} : { instruction: settings.instruction }),
      };
      result = await personalizer.personalize(request);
    } catch (error) {
      const unchanged = { ...params };
      const reason = error instanceof Error ? error.message : String(error);
      warningsOf.set(unchanged, [
        warning(`no persona for user "${userId}" on this turn, the call went on without one: ${reason}`),
      ]);
      return unchanged;
    }
    settings.onPersona?.(result);
    const messages = personaMessages(result.persona);
    remember(turnKey, messages);
    const transformed = withPersona(params, messages);
    if (result.warnings.length > 0) {
      warningsOf.set(
        transformed,
        result.warnings.map((item) => warning(`${item.type}: ${item.message}`)),
      );
    }
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
