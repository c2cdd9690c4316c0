import {
  createHashingEncoder,
  createPersonalizer,
  InvalidArgumentError,
  type ModelAdapter,
} from '@userplug/core';
import type { Generate } from './generate.js';

/** A hosted model loaded from a `--model provider:name` spec. */
export interface LoadedGenerator {
  /** The spec, such as `openai:gpt-4o-mini`. */
  name: string;
  /** Sends a prompt as is (no persona: the benchmark's prompt already carries the context). */
  generate: Generate;
  /** Releases the adapter. */
  dispose(): Promise<void>;
}

const adapters: Record<string, { packageName: string; factory: string; keyVariable: string }> = {
  openai: { packageName: '@userplug/openai', factory: 'createOpenAIAdapter', keyVariable: 'OPENAI_API_KEY' },
  anthropic: {
    packageName: '@userplug/anthropic',
    factory: 'createAnthropicAdapter',
    keyVariable: 'ANTHROPIC_API_KEY',
  },
};

/** What generation needs, for messages of commands run without `--model`. */
export const generationHelp =
  'Generation needs a model: pass --model openai:gpt-4o-mini (the @userplug/openai adapter, OPENAI_API_KEY set) ' +
  'or --model anthropic:MODEL (@userplug/anthropic, ANTHROPIC_API_KEY), or call the API with your own ' +
  '`generate(prompt) => Promise<string>` function.';

/**
 * Loads a hosted model from `provider:model` through its adapter package (`@userplug/openai`,
 * `@userplug/anthropic`), imported only now so the evals package does not depend on it. Prompts are sent as
 * they are, with no persona (budget 0): the benchmark's prompt holds its own context. Usage and cost are the
 * adapter's (the provider's billed tokens, its price table).
 */
export async function loadGenerator(spec: string): Promise<LoadedGenerator> {
  const separator = spec.indexOf(':');
  const provider = separator > 0 ? spec.slice(0, separator) : '';
  const model = spec.slice(separator + 1);
  const adapter = adapters[provider];
  if (!adapter || model.length === 0) {
    throw new InvalidArgumentError(
      'model',
      `Unknown model "${spec}". Use provider:model, such as openai:gpt-4o-mini or anthropic:claude-haiku-4-5.`,
    );
  }
  let module: Record<string, unknown>;
  try {
    // A variable specifier keeps tsc and bundlers from requiring the optional adapter.
    const specifier: string = adapter.packageName;
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidArgumentError(
      'model',
      `--model ${spec} needs the ${adapter.packageName} adapter, which could not be loaded. ` +
        `Install it (npm install ${adapter.packageName}) and set ${adapter.keyVariable}, or call the API with ` +
        'your own generate(prompt) function.',
      { cause: error },
    );
  }
  const factory = module[adapter.factory];
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(
      'model',
      `${adapter.packageName} does not export ${adapter.factory}: install a version that matches @userplug/evals.`,
    );
  }
  // No persona is sent, so the personalizer never needs the default encoder: a hashing one loads nothing.
  const personalizer = createPersonalizer({ encoder: createHashingEncoder(), budget: 0 });
  let hosted: ModelAdapter;
  try {
    hosted = (factory as (settings: object) => ModelAdapter)({ model, budget: 0, personalizer });
  } catch (error) {
    await personalizer.dispose();
    throw error;
  }
  return {
    name: spec,
    async generate(prompt) {
      const result = await hosted.generate({ userId: 'userplug-eval', prompt, budget: 0 });
      const { inputTokens, outputTokens, costUsd } = result.usage;
      if (inputTokens === undefined || outputTokens === undefined) return result.text;
      return {
        text: result.text,
        usage: {
          inputTokens,
          outputTokens,
          ...(costUsd === undefined ? {} : { costUsd }),
        },
      };
    },
    async dispose() {
      await hosted.dispose();
      await personalizer.dispose();
    },
  };
}
