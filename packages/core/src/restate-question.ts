// Question words and auxiliaries that open an English question; a statement that answers it has none of them.
const questionWords = new Set(
  `what which where when who whom whose why how do does did am is are was were have has had can could would will
shall should may might`.split(/\s+/),
);
// Only the first few words are inspected: "Where do I live" → "I live", but "I wonder what it is" keeps its words.
const openingWords = 3;

/**
 * The statement a question's answer would contain, as words without the question form: "Which city do I currently
 * live in?" → "city I currently live in". Answers in a history are statements, and a sentence encoder reads a
 * question as close to other questions; embedding both forms finds the statements. Returns undefined when the
 * text is not a question (no `?`) or nothing is left to restate.
 */
export function restateQuestion(text: string): string | undefined {
  if (!text.includes('?')) return undefined;
  const tokens = text.replace(/\?/g, ' ').split(/\s+/).filter(Boolean);
  let start = 0;
  while (start < tokens.length && questionWords.has(tokens[start]!.toLowerCase())) start++;
  const statement = tokens
    .slice(start)
    .filter((token, position) => !(position < openingWords && questionWords.has(token.toLowerCase())))
    .join(' ');
  return statement.length > 0 ? statement : undefined;
}
