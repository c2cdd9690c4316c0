import type { PersonaDescriptor, PersonaEvidence } from './render-persona.js';
import type { UserplugWarning } from './userplug-warning.js';

/** One chat message, in the shape every chat API accepts. */
export interface ChatMessage {
  /** `system` carries the persona, `user` the prompt. */
  role: 'system' | 'user';
  /** The text. */
  content: string;
}

/** How much one history item shaped the persona. */
export interface Attribution {
  /** The item's id. */
  itemId: string;
  /** Its attention weight; all items' weights sum to 1. */
  weight: number;
  /** Leave-one-out influence: 1 − cos(persona, persona without this item). Only when requested. */
  influence?: number;
}

/** The user's persona for one prompt, at every level (Query-as-Anchor's coarse to fine). */
export interface Persona {
  /** The persona block for a text LLM (`stableText + dynamicText`); empty when there is no persona. */
  text: string;
  /** Query-independent opening: byte-identical across prompts while the history and budget are unchanged. */
  stableText: string;
  /** Query-dependent rest: relevant themes, facts and evidence, and the closing tag. */
  dynamicText: string;
  /** Query-aware persona vector (attention-weighted over all items), unit length. */
  vector: Float32Array;
  /** Query-independent user vector (the long-term profile), unit length. */
  userVector: Float32Array;
  /** Mean vector per item kind. */
  kindVectors: Record<string, Float32Array>;
  /** Key phrases from the user's own history that were rendered. */
  descriptors: PersonaDescriptor[];
  /**
   * The long-term profile (query-independent): key phrases ranked against the user vector and typed-signal facts,
   * whether or not the text had room for them (local models build their cached profile tokens from it).
   */
  profile: { descriptors: PersonaDescriptor[]; facts: string[] };
  /** Typed-signal facts (profile, then query-relevant). */
  facts: string[];
  /** History items quoted as evidence, in order. */
  evidence: PersonaEvidence[];
  /** The items with the highest attention weights, highest first. */
  attributions: Attribution[];
  /** True when some content did not fit the budget. */
  truncated: boolean;
  /** Store revision of the user's history this persona was built from. */
  revision: number;
}

/** Token accounting of one personalization. */
export interface PersonaUsage {
  /** Tokens of the persona text. */
  personaTokens: number;
  /** Tokens of the whole stored history. */
  historyTokens: number;
  /** historyTokens / personaTokens (0 without a persona). */
  compression: number;
  /** Items in the user's history. */
  historyItems: number;
  /** The budget the persona was held to. */
  budget: number;
  /** The tokenizer that counted, such as `o200k_base`. */
  tokenizer: string;
}

/** What `personalize` returns. */
export interface PersonalizeResult {
  /** One string for any text LLM: the persona block, a blank line, then the prompt. */
  prompt: string;
  /** `[{ role: 'system', content: persona }, { role: 'user', content: prompt }]` (no system message without a persona). */
  messages: ChatMessage[];
  /** The persona at every level. */
  persona: Persona;
  /** Token accounting. */
  usage: PersonaUsage;
  /** Non-fatal problems. */
  warnings: UserplugWarning[];
}
