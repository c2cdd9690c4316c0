import type { PersonaBenchSession } from './load-personabench.js';

function removeKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => removeKeys(item, keys));
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (!keys.has(key)) result[key] = removeKeys(item, keys);
    return result;
  }
  return value;
}

/** JSON text as Python's `json.dumps(value, separators=(',', ':'))` writes it (ASCII only, `\uXXXX` escapes). */
export function pythonJsonDumps(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const officialExcludedKeys = new Set(['segment_id', 'session']);

/**
 * The chunk text of the official retrieval script: the session's JSON without `segment_id` and `session`
 * (removed at any depth), as `convert_json_to_plain_text` writes it.
 */
export function officialChunkText(session: Pick<PersonaBenchSession, 'raw'>): string {
  return pythonJsonDumps(removeKeys(session.raw, officialExcludedKeys));
}

/** Python's `repr()` of a str (printable ASCII and common escapes; the chunk texts are ASCII). */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (character === '\\') body += '\\\\';
    else if (character === quote) body += `\\${quote}`;
    else if (character === '\n') body += '\\n';
    else if (character === '\r') body += '\\r';
    else if (character === '\t') body += '\\t';
    else if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else body += character;
  }
  return `${quote}${body}${quote}`;
}

/** `str()` of a 1-D numpy array of strings: `['a' 'b']`, wrapped as numpy's `_formatArray` wraps at 75 columns. */
export function numpyStringArrayStr(texts: readonly string[]): string {
  // numpy: hanging indent ' ', element width 75 - len(']'); a line holding only the indent never wraps.
  const prefix = ' ';
  const width = 74;
  let result = '';
  let line = prefix;
  texts.forEach((text, index) => {
    const word = pythonStringRepr(text);
    if (line.length + word.length > width && line.length > prefix.length) {
      result += `${line.trimEnd()}\n`;
      line = prefix;
    }
    line += word;
    if (index < texts.length - 1) line += ' ';
  });
  result += line;
  return `[${result.slice(prefix.length)}]`;
}

/**
 * The official end-to-end prompt: the retrieved chunk texts as the script formats a numpy array of them,
 * then the instruction and the question.
 */
export function officialQaPrompt(question: string, chunkTexts: readonly string[]): string {
  return (
    `You are provided with the following relevant information: ${numpyStringArrayStr(chunkTexts)}.\n` +
    'Answer the question below as directly and concisely as possible, using only the name(s) ' +
    'of the relevant entity or entities. Avoid adding any extra words or explanations.\n\n' +
    `Question: ${question}`
  );
}
