/** How long items are cut into separately embedded pieces. */
export interface PieceSettings {
  /** Most words in one piece; set from the encoder's input limit. */
  maxWords: number;
  /** Lines shorter than this are joined to a neighbour, so "ok thanks" is not a piece of its own. Default 6. */
  minWords?: number;
}

const sentenceBoundary = /(?<=[.!?])\s+(?=\S)/u;

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
 * Cuts an item's text into pieces an encoder reads whole: one piece per line (a chat message, a
 * purchase), short lines joined to their neighbour, long lines cut at sentence ends. A text that
 * already fits is one piece. Deterministic, so pieces never need to be stored.
 */
export function splitIntoPieces(text: string, settings: PieceSettings): string[] {
  const maxWords = Math.max(1, settings.maxWords);
  const minWords = Math.min(settings.minWords ?? 6, maxWords);
  if (wordCount(text) <= maxWords) return [text];
  const units: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    if (wordCount(trimmed) > maxWords) units.push(...splitLongUnit(trimmed, maxWords));
    else units.push(trimmed);
  }
  const pieces: string[] = [];
  let pending = '';
  let pendingWords = 0;
  for (const unit of units) {
    const words = wordCount(unit);
    const fits = pendingWords + words <= maxWords;
    // A short line ("ok, sounds good") answers what came before it, so it joins the previous piece.
    const joinsBackward = words < minWords && fits;
    if (pending.length > 0 && !joinsBackward && (pendingWords >= minWords || !fits)) {
      pieces.push(pending);
      pending = '';
      pendingWords = 0;
    }
    pending = pending.length > 0 ? `${pending}\n${unit}` : unit;
    pendingWords += words;
  }
  if (pending.length > 0) {
    const last = pieces.at(-1);
    // A short tail joins the previous piece when both fit together.
    if (last !== undefined && pendingWords < minWords && wordCount(last) + pendingWords <= maxWords) {
      pieces[pieces.length - 1] = `${last}\n${pending}`;
    } else {
      pieces.push(pending);
    }
  }
  return pieces.length > 0 ? pieces : [text];
}
