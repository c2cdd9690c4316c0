/** How long items are cut into separately embedded pieces. */
export interface PieceSettings {
  /** Most words in one piece; set from the encoder's input limit. */
  maxWords: number;
  /** Lines shorter than this are joined to a neighbour, so "ok thanks" is not a piece of its own. Default 6. */
  minWords?: number;
  /** The text is one chat message (a turn): cut per sentence, as the messages of a transcript are. Default false. */
  message?: boolean;
}

/** One piece of an item: the text as written, and what the encoder reads. */
export interface TextPiece {
  /** The piece as it appears in the item (chat lines keep their speaker label). */
  text: string;
  /** What is embedded: the text without speaker labels. */
  content: string;
}

const sentenceBoundary = /(?<=[.!?])\s+(?=\S)/u;
// `Name: message` — a speaker label of one to five words that does not end a sentence.
const speakerLine = /^([\p{L}\p{N}][\p{L}\p{N}'’ ._-]{0,39}?):\s+(\S.*)$/u;
const maxLabelWords = 5;

function wordCount(text: string): number {
  let count = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const space = text.charCodeAt(index) <= 32;
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

function splitLongUnit(unit: string, maxWords: number): string[] {
  const pieces: string[] = [];
  let current: string[] = [];
  let currentWords = 0;
  const flush = () => {
    if (current.length > 0) pieces.push(current.join(' '));
    current = [];
    currentWords = 0;
  };
  for (const sentence of unit.split(sentenceBoundary)) {
    const sentenceWords = sentence.split(/\s+/).filter(Boolean);
    if (sentenceWords.length > maxWords) {
      flush();
      for (let start = 0; start < sentenceWords.length; start += maxWords) {
        pieces.push(sentenceWords.slice(start, start + maxWords).join(' '));
      }
      continue;
    }
    if (currentWords + sentenceWords.length > maxWords) flush();
    current.push(sentence);
    currentWords += sentenceWords.length;
  }
  flush();
  return pieces;
}

/**
 * The sentences of a chat message, a sentence shorter than `minWords` joined to its neighbour: a message that
 * tells several things ("Long day. The weather's been perfect for reading here in Cambridge.") is embedded one
 * statement at a time, so a question about one of them is not diluted by the rest.
 */
function sentenceUnits(message: string, minWords: number): string[] {
  const units: string[] = [];
  for (const sentence of message.split(sentenceBoundary)) {
    const last = units.at(-1);
    if (last !== undefined && (wordCount(sentence) < minWords || wordCount(last) < minWords))
      units[units.length - 1] = `${last} ${sentence}`;
    else units.push(sentence);
  }
  return units;
}

function speakerOf(line: string): { label: string; message: string } | undefined {
  const match = speakerLine.exec(line);
  if (!match) return undefined;
  const label = match[1]!.trim();
  if (wordCount(label) > maxLabelWords || /[.!?]$/.test(label)) return undefined;
  return { label, message: match[2]! };
}

/**
 * Whether lines read as a chat transcript: most lines start with a speaker label, and labels repeat (a list of
 * `Title: description` lines, each with its own title, is not a chat).
 */
function isTranscript(lines: readonly string[]): boolean {
  const counts = new Map<string, number>();
  let labelled = 0;
  for (const line of lines) {
    const speaker = speakerOf(line);
    if (!speaker) continue;
    labelled++;
    counts.set(speaker.label, (counts.get(speaker.label) ?? 0) + 1);
  }
  if (labelled < 3 || labelled < 0.6 * lines.length) return false;
  const mostFrequent = Math.max(...counts.values());
  return mostFrequent >= 2 && counts.size <= Math.max(2, labelled / 2);
}

/**
 * The messages of a transcript: a line without a label continues the message before it; lines before the first
 * label are a heading (who, with whom, when), which stays in the item's text for lexical search but is not
 * embedded: headings of one user's chats are near-duplicates that match any question about the people in them.
 */
function messagesOf(lines: readonly string[]): { label?: string; message: string }[] {
  const messages: { label: string; message: string }[] = [];
  for (const line of lines) {
    const speaker = speakerOf(line);
    const last = messages.at(-1);
    if (speaker) messages.push({ label: speaker.label, message: speaker.message });
    else if (last) last.message = `${last.message}\n${line}`;
  }
  return messages;
}

interface Unit {
  text: string;
  content: string;
  words: number;
}

/**
 * Cuts an item's text into pieces an encoder reads whole. A chat transcript (most lines `Speaker: message`,
 * speakers repeating) always becomes one piece per sentence of each message (sentences under `minWords` words
 * joined to a neighbour, short replies joined to the message before), the speaker label kept in `text` but not
 * embedded (a label on every line would make all of a speaker's messages look alike), and a heading before the
 * first message not embedded at all. Other text that fits is one piece; longer text is cut per line. Short lines join
 * their neighbour, long lines are cut at sentence ends. Deterministic, so pieces never need to be stored.
 */
export function cutIntoPieces(text: string, settings: PieceSettings): TextPiece[] {
  const maxWords = Math.max(1, settings.maxWords);
  const minWords = Math.min(settings.minWords ?? 6, maxWords);
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const transcript = lines.length >= 3 && isTranscript(lines);
  const chat = transcript || settings.message === true;
  if (!chat && wordCount(text) <= maxWords) return [{ text, content: text }];
  const units: Unit[] = [];
  const messages: { label?: string; message: string }[] = transcript
    ? messagesOf(lines)
    : settings.message
      ? [{ message: lines.join('\n') }]
      : lines.map((line) => ({ message: line }));
  for (const { label, message } of messages) {
    const parts = (chat ? sentenceUnits(message, minWords) : [message]).flatMap((part) =>
      wordCount(part) > maxWords ? splitLongUnit(part, maxWords) : [part],
    );
    for (const part of parts) {
      units.push({
        text: label === undefined ? part : `${label}: ${part}`,
        content: part,
        words: wordCount(part),
      });
    }
  }
  const pieces: TextPiece[] = [];
  let pending: Unit | undefined;
  const join = (left: Unit, right: Unit): Unit => ({
    text: `${left.text}\n${right.text}`,
    content: `${left.content}\n${right.content}`,
    words: left.words + right.words,
  });
  for (const unit of units) {
    const fits = (pending?.words ?? 0) + unit.words <= maxWords;
    // A short line ("ok, sounds good") answers what came before it, so it joins the previous piece.
    const joinsBackward = unit.words < minWords && fits;
    if (pending && !joinsBackward && (pending.words >= minWords || !fits)) {
      pieces.push({ text: pending.text, content: pending.content });
      pending = undefined;
    }
    pending = pending ? join(pending, unit) : unit;
  }
  if (pending) {
    const last = pieces.at(-1);
    // A short tail joins the previous piece when both fit together.
    if (
      last !== undefined &&
      pending.words < minWords &&
      wordCount(last.content) + pending.words <= maxWords
    ) {
      pieces[pieces.length - 1] = {
        text: `${last.text}\n${pending.text}`,
        content: `${last.content}\n${pending.content}`,
      };
    } else {
      pieces.push({ text: pending.text, content: pending.content });
    }
  }
  return pieces.length > 0 ? pieces : [{ text, content: text }];
}

/** The pieces of an item's text as written (see {@link cutIntoPieces}); the i-th is the item's i-th vector. */
export function splitIntoPieces(text: string, settings: PieceSettings): string[] {
  return cutIntoPieces(text, settings).map((piece) => piece.text);
}
