import {
  InvalidArgumentError,
  type Persona,
  type PersonalizeRequest,
  type PersonalizeResult,
  type Personalizer,
  type UserplugWarning,
} from '@userplug/core';
import type { CheckedRequest } from './check-generate-request.js';
import type { FittedPersona } from './create-hosted-model-adapter.js';

/** Options of {@link personalizeWithinBudget}. */
export interface PersonalizeWithinBudgetOptions {
  /** Tokens of a persona as the target model counts them: a real tokenizer, a provider's counting endpoint, or an estimate. */
  countPersonaTokens: (persona: Persona) => number | Promise<number>;
  /** Name of that count, such as `o200k_base` or `anthropic-count-tokens`; shown in warnings. */
  tokenizer: string;
  /**
   * Budget, in the personalizer's own tokens, to render the first attempt with (from an earlier
   * call's `renderBudget`). Only used with `request.budget`, which stays the limit. Default `request.budget`.
   */
  renderBudget?: number;
  /**
   * When the personalizer over-counts (a conservative estimate) and the persona was cut, render
   * once more under a budget scaled by the measured ratio, so the persona uses the budget. Default false.
   */
  fill?: boolean;
  /** Most renderings tried. Default 4. */
  maxAttempts?: number;
}

/** A personalization whose persona is known to fit the budget in the target model's tokens. */
export interface BudgetedPersonalization {
  /** The personalization; its warnings include any from fitting the budget. */
  result: PersonalizeResult;
  /** Tokens of `result.persona`, by `countPersonaTokens`. */
  personaTokens: number;
  /** The budget held to, in the target model's tokens. */
  budget: number;
  /** The budget, in the personalizer's tokens, the returned persona was rendered with: reuse it as `renderBudget`. */
  renderBudget: number;
  /** Renderings made (1 when the personalizer already counts as the target model does). */
  attempts: number;
}

/**
 * Personalizes, then checks the persona with the target model's own count. When the
 * personalizer's tokenizer counted fewer tokens than the model does, the persona is rendered
 * again under a proportionally smaller budget; with `fill`, one that used too little of the budget
 * is rendered again under a larger one. The persona returned never exceeds the budget; when no
 * rendering fits, the result has no persona and a warning says why.
 */
export async function personalizeWithinBudget(
  personalizer: Personalizer,
  request: PersonalizeRequest,
  options: PersonalizeWithinBudgetOptions,
): Promise<BudgetedPersonalization> {
  const maxAttempts = options.maxAttempts ?? 4;
  const { history: _ingestedOnce, ...again } = request;
  const count = async (result: PersonalizeResult) =>
    result.persona.text === '' ? 0 : await options.countPersonaTokens(result.persona);
  const render = async (renderBudget: number): Promise<PersonalizeResult | undefined> => {
    try {
      return await personalizer.personalize({ ...again, budget: renderBudget });
    } catch (error) {
      // A budget below the persona frame's size cannot be rendered.
      if (InvalidArgumentError.isInstance(error) && error.argument === 'budget') return undefined;
      throw error;
    }
  };

  const firstBudget = request.budget === undefined ? undefined : (options.renderBudget ?? request.budget);
  let result = await personalizer.personalize(
    firstBudget === undefined ? request : { ...request, budget: firstBudget },
  );
  let renderBudget = result.usage.budget;
  const budget = request.budget ?? renderBudget;
  let tokens = await count(result);
  let attempts = 1;
  let shrunk = false;

  while (tokens > budget && attempts < maxAttempts) {
    // Scale by how much the model's count exceeds the personalizer's, one more token of slack per try.
    const smaller = Math.min(renderBudget - 1, Math.floor((renderBudget * budget) / tokens) - attempts);
    const rendered = smaller > 0 ? await render(smaller) : undefined;
    if (!rendered) break;
    result = rendered;
    renderBudget = smaller;
    tokens = await count(result);
    attempts++;
    shrunk = true;
  }

  if (tokens > budget) {
    const counted = tokens;
    result = await personalizer.personalize({ ...again, budget: 0 });
    const warnings: UserplugWarning[] = [...result.warnings];
    warnings.push({
      type: 'persona-over-budget',
      message:
        `No persona for user "${request.userId}" fits ${budget} ${options.tokenizer} tokens (the smallest rendering had ${counted}). ` +
        'The prompt was sent without a persona; raise `budget`.',
    });
    return { result: { ...result, warnings }, personaTokens: 0, budget, renderBudget: 0, attempts };
  }

  if (options.fill && !shrunk && result.persona.truncated && tokens > 0 && tokens < budget * 0.95) {
    // The personalizer's count over the model's is the ratio to scale by; 2% slack for content that counts differently.
    let larger = Math.floor(((result.usage.personaTokens * budget) / tokens) * 0.98);
    while (larger > renderBudget && attempts < maxAttempts) {
      const rendered = await render(larger);
      if (!rendered) break;
      attempts++;
      const largerTokens = await count(rendered);
      if (largerTokens <= budget) {
        result = rendered;
        tokens = largerTokens;
        renderBudget = larger;
        break;
      }
      larger = Math.floor((larger * budget) / largerTokens) - 1;
    }
  }

  const warnings: UserplugWarning[] = [...result.warnings];
  if (shrunk) {
    warnings.push({
      type: 'tokenizer-mismatch',
      message:
        `The personalizer counts tokens with ${result.usage.tokenizer} but the model with ${options.tokenizer}: ` +
        `the persona was rendered ${attempts} times to fit ${budget} tokens. ` +
        `Create the personalizer with a tokenCounter that matches the model to render it once.`,
    });
  }
  return { result: { ...result, warnings }, personaTokens: tokens, budget, renderBudget, attempts };
}

/** What to personalize for a checked request, under `budget` (undefined: the personalizer's), honouring its signal. */
export function personalizeRequestFor(
  request: CheckedRequest,
  options: { budget: number | undefined; signal: AbortSignal; withHistory: boolean },
): PersonalizeRequest {
  return {
    userId: request.userId,
    prompt: request.prompt,
    signal: options.signal,
    ...(options.withHistory && request.history !== undefined ? { history: request.history } : {}),
    ...(request.instruction === undefined ? {} : { instruction: request.instruction }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  };
}

/** A {@link BudgetedPersonalization} as the adapters report it, counted by `personaTokenizer`. */
export function fittedPersonaOf(
  fitted: BudgetedPersonalization,
  personaTokenizer: string,
  warnings: readonly UserplugWarning[] = [],
): FittedPersona {
  return {
    persona: fitted.result.persona,
    personaTokens: fitted.personaTokens,
    personaTokenizer,
    budget: fitted.budget,
    warnings: [...fitted.result.warnings, ...warnings],
  };
}
