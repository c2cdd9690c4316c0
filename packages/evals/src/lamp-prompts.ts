import type { TokenCounter } from '@userplug/core';
import type { LampProfileItem, LampTaskNumber } from './lamp-tasks.js';

/** Options of {@link createLampPrompt}. */
export interface LampPromptOptions {
  /** Token limit of the whole prompt, as LaMP's `max_length`. Default 512. */
  maxLength?: number;
  /**
   * Counts and truncates tokens. LaMP used the model's own tokenizer (Flan-T5's), which adds one end token to
   * every count; this adds one too. Any counter works; counts differ from Flan-T5's by tokenizer.
   */
  tokenCounter: TokenCounter;
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

class TruncationError extends Error {}

/** LaMP's `add_string_after_title`. */
function addStringAfterTitle(original: string, addition: string): string {
  const index = original.indexOf('title');
  if (index === -1) return original;
  return `${original.slice(0, index + 5)}, and ${addition}${original.slice(index + 5)}`;
}

/**
 * Builds a LaMP prompt exactly as LaMP's `prompts.py` templates do, profile entries in the order given: each
 * entry's text is cut to a share of the token budget (unused tokens carried to the next entry), and the budget
 * shrinks for long inputs (0.6, 0.5, … of `maxLength`) until the template fits; the input alone when nothing fits.
 */
export function createLampPrompt(
  task: LampTaskNumber,
  input: string,
  profile: readonly LampProfileItem[],
  options: LampPromptOptions,
): string {
  const maxLength = options.maxLength ?? 512;
  const counter = options.tokenCounter;
  // Flan-T5's tokenizer appends </s>: `len(tokenizer(x)['input_ids'])` is the text's tokens plus one.
  const length = (value: string) => counter.count(value) + 1;
  const truncate = (value: string, max: number): { text: string; length: number } => {
    if (max <= 0) throw new TruncationError();
    const kept = counter.truncate(value, max - 1);
    return { text: kept, length: Math.min(length(value), max) };
  };
  const build = (budget: number): string => {
    const count = profile.length;
    if (count === 0) throw new TruncationError();
    const join = (parts: string[]) => parts.join(', and ');
    if (task === 1) {
      const perItem = Math.floor((budget - 2 * (count - 1)) / count);
      let saved = 0;
      const parts = profile.map((item) => {
        const cut = truncate(text(item.title), perItem + saved - 2);
        saved += perItem - cut.length - 2;
        return `"${cut.text}"`;
      });
      return addStringAfterTitle(input, join(parts));
    }
    const template: Record<
      Exclude<LampTaskNumber, 1>,
      {
        extra: string;
        field: string;
        needed: (item: LampProfileItem) => string;
        render: (item: LampProfileItem, cut: string) => string;
        close: string;
      }
    > = {
      2: {
        extra: '',
        field: 'description',
        needed: (item) => `the tag for the movie: " " is "${text(item.tag)}" `,
        render: (item, cut) => `the tag for the movie: "${cut}" is "${text(item.tag)}" `,
        close: '. ',
      },
      3: {
        extra: '',
        field: 'text',
        needed: (item) => `${text(item.score)} is the score for " " `,
        render: (item, cut) => `${text(item.score)} is the score for "${cut}" `,
        close: '. ',
      },
      4: {
        extra: '',
        field: 'text',
        needed: (item) => `"${text(item.title)}" is the title for " " `,
        render: (item, cut) => `"${text(item.title)}" is the title for "${cut}" `,
        close: '. ',
      },
      5: {
        extra: 'Following the given patterns',
        field: 'abstract',
        needed: (item) => `"${text(item.title)}" is a title " " `,
        render: (item, cut) => `"${text(item.title)}" is a title for "${cut}" `,
        close: '. Following the given patterns ',
      },
      6: {
        extra: '',
        field: 'text',
        needed: (item) => `"${text(item.title)}" is the title for " " `,
        render: (item, cut) => `"${text(item.title)}" is the title for "${cut}" `,
        close: '. ',
      },
      7: {
        extra: 'are written by user. Following the given patterns',
        field: 'text',
        needed: () => '"" ',
        render: (_item, cut) => `"${cut}" `,
        close: ' are written by a person. Following the given patterns ',
      },
    };
    const shape = template[task];
    const reserved = shape.extra.length > 0 ? length(shape.extra) : 0;
    const perItem = Math.floor((budget - 1 - 2 * (count - 1) - reserved) / count);
    let saved = 0;
    const parts = profile.map((item) => {
      const needed = length(shape.needed(item));
      const cut = truncate(text(item[shape.field]), perItem + saved - needed);
      saved += perItem - cut.length - needed;
      return shape.render(item, cut.text);
    });
    return `${join(parts)}${shape.close}${input}`;
  };
  for (let factor = 0.6; factor >= 0; factor -= 0.1) {
    const budget = maxLength - Math.min(length(input), Math.floor(factor * maxLength));
    try {
      return build(budget);
    } catch (error) {
      if (!(error instanceof TruncationError)) throw error;
    }
  }
  return input;
}
