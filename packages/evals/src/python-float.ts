const digitPart = '[0-9](?:_?[0-9])*';
const pythonFloatPattern = new RegExp(
  `^[+-]?(?:(?:(?:${digitPart})?\\.${digitPart}|${digitPart}\\.?)(?:[eE][+-]?${digitPart})?|inf(?:inity)?|nan)$`,
  'i',
);
// str.strip() whitespace, which float() also ignores around the number.
const pythonSpace =
  /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Unicode decimal digits (`٣`, `４`) as ASCII ones; every run of them in Unicode is a whole 0-9 sequence. */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (digit) => {
    let position = 0;
    let codePoint = digit.codePointAt(0)!;
    while (codePoint > 0 && /\p{Nd}/u.test(String.fromCodePoint(codePoint - 1))) {
      codePoint--;
      position++;
    }
    return String(position % 10);
  });
}

/**
 * Python's `float(text)` for ASCII input: undefined where Python raises ValueError. Accepts `3`, ` 3.0 `,
 * `.5`, `1e3`, `1_000`, `inf`, `-Infinity`, `nan`; rejects `3 stars`, `0x10`, ``. Unicode digits count, as in Python.
 */
export function parsePythonFloat(text: string): number | undefined {
  const trimmed = asciiDigits(text.replace(pythonSpace, ''));
  if (!pythonFloatPattern.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase();
  const sign = lower.startsWith('-') ? -1 : 1;
  const body = lower.replace(/^[+-]/, '');
  if (body === 'nan') return Number.NaN;
  if (body.startsWith('inf')) return sign * Number.POSITIVE_INFINITY;
  return Number(trimmed.replace(/_/g, ''));
}
