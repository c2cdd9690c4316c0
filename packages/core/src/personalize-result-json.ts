import type {
  Attribution,
  ChatMessage,
  PersonalizeResult,
  PersonalizeWarning,
  PersonaUsage,
} from './personalize-result.js';
import type { PersonaDescriptor, PersonaEvidence } from './render-persona.js';

/**
 * A personalization as JSON: what `userplug personalize --json` prints and `POST /v1/users/{userId}/personalize`
 * returns. The persona without its vectors: its text is in `messages` and `prompt`.
 */
export interface PersonalizeResultJson {
  /** The persona block, a blank line, then the prompt. */
  prompt: string;
  /** The messages to send: the persona as the system message (when there is one), then the prompt. */
  messages: ChatMessage[];
  /** What the persona is made of. */
  persona: {
    /** Key phrases from the user's own history that were rendered. */
    descriptors: PersonaDescriptor[];
    /** Typed-signal facts (profile, then query-relevant). */
    facts: string[];
    /** History items quoted as evidence, in order. */
    evidence: PersonaEvidence[];
    /** The items with the highest attention weights, highest first. */
    attributions: Attribution[];
    /** True when some content did not fit the budget. */
    truncated: boolean;
  };
  /** Token accounting. */
  usage: PersonaUsage;
  /** Non-fatal problems. */
  warnings: PersonalizeWarning[];
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
