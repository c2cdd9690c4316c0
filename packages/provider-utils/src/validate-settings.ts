import { InvalidArgumentError } from '@userplug/core';

/** Throws unless `value` is undefined or a whole number ≥ `minimum` (default 0); `unit` goes into the message. */
export function requireWholeNumber(
  name: string,
  value: number | undefined,
  options: { minimum?: number; unit?: string } = {},
): void {
  const minimum = options.minimum ?? 0;
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new InvalidArgumentError(
      name,
      `${name} must be a whole number ≥ ${minimum}${options.unit ? ` (${options.unit})` : ''}, got ${String(value)}.`,
    );
  }
}

/** A range of numbers, each end open or closed. */
export interface NumberRange {
  /** Lowest value. Default: none. */
  minimum?: number;
  /** Whether `minimum` itself is out of range. Default false. */
  exclusiveMinimum?: boolean;
  /** Highest value. Default: none. */
  maximum?: number;
}

/** Throws unless `value` is undefined or a finite number within `range`. */
export function requireNumberInRange(name: string, value: number | undefined, range: NumberRange): void {
  if (value === undefined) return;
  const { minimum, maximum } = range;
  const aboveMinimum = minimum === undefined || (range.exclusiveMinimum ? value > minimum : value >= minimum);
  if (Number.isFinite(value) && aboveMinimum && (maximum === undefined || value <= maximum)) return;
  const lower = minimum === undefined ? '' : `${range.exclusiveMinimum ? '(' : '['}${minimum}, `;
  const upper = maximum === undefined ? '∞)' : `${maximum}]`;
  throw new InvalidArgumentError(
    name,
    `${name} must be a number in ${lower || '(-∞, '}${upper}, got ${String(value)}.`,
  );
}

/** Throws unless `model` is a non-empty string; `what` and `example` go into the message ("an OpenAI model id", "gpt-5.4-mini"). */
export function requireModelId(model: unknown, what: string, example: string): asserts model is string {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidArgumentError('model', `model is required. Pass ${what}, such as "${example}".`);
  }
}
