import type { PersonalizeRequest, Personalizer } from './create-personalizer.js';
import type { Persona, PersonalizeResult, PersonalizeWarning } from './personalize-result.js';
import { InvalidArgumentError } from './userplug-error.js';

/** Options of {@link personalizeWithinBudget}. */
export interface PersonalizeWithinBudgetOptions {
  /** Tokens of a persona as the target model counts them: a real tokenizer, a provider's counting endpoint, or an estimate. */
  countPersonaTokens: (persona: Persona) => number | Promise<number>;
  /** Name of that count, such as `o200k_base` or `anthropic-count-tokens`; shown in warnings. */
  tokenizer: string;
  /** Most renderings tried before giving up on a persona. Default 4. */
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
  /** Renderings made (1 when the personalizer already counts as the target model does). */
  attempts: number;
}

/**
 * Personalizes, then checks the persona with the target model's own count and, when the
 * personalizer's tokenizer counted fewer tokens than the model does, renders it again under a
 * proportionally smaller budget. The persona returned never exceeds the budget; when no rendering
 * fits, the result has no persona and a warning says why.
 */
export async function personalizeWithinBudget(
  personalizer: Personalizer,
  request: PersonalizeRequest,
  options: PersonalizeWithinBudgetOptions,
): Promise<BudgetedPersonalization> {
  const maxAttempts = options.maxAttempts ?? 4;
  let result = await personalizer.personalize(request);
  const budget = result.usage.budget;
  let tokens = result.persona.text === '' ? 0 : await options.countPersonaTokens(result.persona);
  let attempts = 1;
  let renderBudget = budget;
  const { history: _ingestedOnce, ...again } = request;
  while (tokens > budget && attempts < maxAttempts) {
    // Scale by how much the model's count exceeds the personalizer's, with one token of slack per try.
    renderBudget = Math.floor((renderBudget * budget) / tokens) - attempts;
    if (renderBudget <= 0) break;
    try {
      result = await personalizer.personalize({ ...again, budget: renderBudget });
    } catch (error) {
      // A budget below the persona frame's size cannot be rendered: stop shrinking.
      if (InvalidArgumentError.isInstance(error) && error.argument === 'budget') break;
      throw error;
    }
    tokens = result.persona.text === '' ? 0 : await options.countPersonaTokens(result.persona);
    attempts++;
  }
  const warnings: PersonalizeWarning[] = [...result.warnings];
  if (tokens > budget) {
    const counted = tokens;
    result = await personalizer.personalize({ ...again, budget: 0 });
    warnings.push({
      type: 'persona-over-budget',
      message:
        `No persona for user "${request.userId}" fits ${budget} ${options.tokenizer} tokens (the smallest rendering had ${counted}). ` +
        'The prompt was sent without a persona; raise `budget`.',
    });
    return { result: { ...result, warnings }, personaTokens: 0, budget, attempts };
  }
  if (attempts > 1) {
    warnings.push({
      type: 'tokenizer-mismatch',
      message:
        `The personalizer counts tokens with ${result.usage.tokenizer} but the model with ${options.tokenizer}: ` +
        `the persona was rendered ${attempts} times to fit ${budget} tokens. ` +
        `Create the personalizer with a tokenCounter that matches the model to render it once.`,
    });
  }
  return { result: { ...result, warnings }, personaTokens: tokens, budget, attempts };
}
