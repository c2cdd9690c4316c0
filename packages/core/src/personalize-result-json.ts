import type { Persona, PersonalizeResult } from './personalize-result.js';

/**
 * A personalization as JSON: what `userplug personalize --json` prints and `POST /v1/users/{userId}/personalize`
 * returns. The persona without its vectors: its text is in `messages` and `prompt`.
 */
export interface PersonalizeResultJson {
  /** The persona block, a blank line, then the prompt. */
  prompt: PersonalizeResult['prompt'];
  /** The messages to send: the persona as the system message (when there is one), then the prompt. */
  messages: PersonalizeResult['messages'];
  /** What the persona is made of. */
  persona: Pick<Persona, 'descriptors' | 'facts' | 'evidence' | 'attributions' | 'truncated'>;
  /** Token accounting. */
  usage: PersonalizeResult['usage'];
  /** Non-fatal problems. */
  warnings: PersonalizeResult['warnings'];
}

/** The JSON form of a personalization: one serialisation for the CLI and the HTTP service. */
export function personalizeResultToJson(result: PersonalizeResult): PersonalizeResultJson {
  const { descriptors, facts, evidence, attributions, truncated } = result.persona;
  return {
    prompt: result.prompt,
    messages: result.messages,
    persona: { descriptors, facts, evidence, attributions, truncated },
    usage: result.usage,
    warnings: result.warnings,
  };
}
