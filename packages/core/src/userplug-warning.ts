/**
 * Something a call could still do, but not quite as asked. `type` is stable: switch on it (the union is
 * closed, so a `switch` can be checked for exhaustiveness); `message` says what happened and what to do.
 */
export type UserplugWarning =
  /** The user has no history items: the prompt went out without a persona. */
  | { type: 'empty-history'; message: string; userId: string }
  /** Some persona content (facts, descriptors, evidence) did not fit the budget. */
  | { type: 'persona-truncated'; message: string }
  /** No rendering of the persona fits the budget in the target model's tokens: none was sent. */
  | { type: 'persona-over-budget'; message: string }
  /** The personalizer counts tokens differently from the model: the persona was rendered more than once. */
  | { type: 'tokenizer-mismatch'; message: string }
  /** The persona could not be built for this call (middleware): the call went on without one. */
  | { type: 'persona-unavailable'; message: string }
  /** A setting or request field this provider or model cannot honour; the call went on without it. */
  | { type: 'unsupported-setting'; message: string; setting: string }
  /**
   * Something stood in for what the call would normally use and may give a worse result: a token estimate for a
   * provider's count (`feature: 'count-tokens'`), a chat template without a system role, a projector trained on
   * another encoder.
   */
  | { type: 'compatibility'; message: string; feature: string }
  /** No price is known for the model: `usage.costUsd` is undefined. */
  | { type: 'unknown-price'; message: string; model: string }
  /** The provider reported no token usage: token counts and cost are undefined. */
  | { type: 'missing-usage'; message: string }
  /** The model refused to answer. */
  | { type: 'refusal'; message: string }
  /** Output was capped below what was asked (a local model's context, for example). */
  | { type: 'max-tokens-capped'; message: string }
  /** Anything else, from a provider or a local runtime. */
  | { type: 'other'; message: string };

/** The `type` of every {@link UserplugWarning}. */
export type UserplugWarningType = UserplugWarning['type'];
