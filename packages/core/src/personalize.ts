import { createPersonalizer, type PersonalizerSettings } from './create-personalizer.js';
import type { HistorySource } from './history-item.js';
import type { PersonalizeResult } from './personalize-result.js';

/** Options of {@link personalize}: the personalizer's settings plus per-call fields. */
export interface PersonalizeOptions extends Omit<PersonalizerSettings, 'store' | 'indexCacheSize'> {
  /** Names the user in errors and warnings. Default `user`. */
  userId?: string;
  /** Also compute leave-one-out influence for the returned attributions. Default false. */
  influence?: boolean;
}

/**
 * Personalizes one prompt from a history in one call: embeds the history (cached by content, so
 * calling again with the same items is fast), builds the query-aware persona and returns the
 * prompt and messages to send. Uses the embedded offline encoder unless `encoder` is given.
 * For many calls on stored users, use `createPersonalizer`.
 */
export async function personalize(
  history: HistorySource,
  prompt: string,
  options: PersonalizeOptions = {},
): Promise<PersonalizeResult> {
  const { userId = 'user', influence, ...settings } = options;
  const personalizer = createPersonalizer(settings);
  try {
    return await personalizer.personalize({ userId, prompt, history, ...(influence ? { influence } : {}) });
  } finally {
    await personalizer.dispose();
  }
}
