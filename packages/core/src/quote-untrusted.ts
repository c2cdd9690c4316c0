/**
 * Renders untrusted history text as one quoted, escaped string literal: newlines, quotes and
 * angle brackets cannot appear raw, so no item can close the persona block, start a fake line or
 * open a tag of its own.
 */
export function quoteUntrusted(text: string): string {
  return JSON.stringify(text)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A short label (an item kind) kept readable when it is a plain word, quoted otherwise. */
export function plainLabel(text: string): string {
  return /^[\p{L}\p{N} _-]{1,40}$/u.test(text) ? text : quoteUntrusted(text);
}
