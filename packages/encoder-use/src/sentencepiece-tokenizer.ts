/** One vocabulary entry: a piece and its unigram log-probability score (higher is more likely). */
export type SentencepieceEntry = readonly [piece: string, score: number];

/** Settings of {@link createSentencepieceTokenizer}. */
export interface SentencepieceTokenizerSettings {
  /**
   * Ids below this are control tokens (`<s>`, `</s>`, …) that plain text never produces.
   * Default `6`, as in the Universal Sentence Encoder vocabulary.
   */
  reservedCount?: number;
  /** Id given to text that no piece covers; consecutive unknown characters share one token. Default `0`. */
  unknownId?: number;
}

/** Splits text into sentencepiece token ids by best total score (unigram Viterbi). */
export interface SentencepieceTokenizer {
  /** Token ids of `text`, at most `maxTokens` of them (default: all), counted from the start of the text. */
  tokenize(text: string, maxTokens?: number): number[];
  /** Number of tokens in `text`, without any limit. */
  countTokens(text: string): number;
  /** The piece of a token id (`▁` marks a word start), or `undefined` for an id outside the vocabulary. */
  pieceOf(id: number): string | undefined;
  /** The id of a piece, or `undefined` when the vocabulary has no such piece (reserved ids are never found). */
  idOf(piece: string): number | undefined;
  /** Number of entries in the vocabulary, reserved ids included. */
  readonly vocabularySize: number;
}

const wordBoundary = 0x2581;
const codePointRange = 0x110000;
// SentencePiece scores an unknown character this far below the least likely piece.
const unknownPenalty = 10;

/**
 * The text as the tokenizer sees it: NFKC, zero-width format characters dropped, runs of whitespace and
 * control characters collapsed to one `▁`, and a leading `▁` (SentencePiece's default normalisation).
 */
export function normalizeForSentencepiece(text: string): string {
  const collapsed = text
    .normalize('NFKC')
    .replace(/\p{Cf}+/gu, '')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
  return collapsed.length === 0 ? '' : '\u2581' + collapsed.replaceAll(' ', '\u2581');
}

/** Builds a tokenizer over `vocabulary`; a token's id is its entry's position. */
export function createSentencepieceTokenizer(
  vocabulary: readonly SentencepieceEntry[],
  settings: SentencepieceTokenizerSettings = {},
): SentencepieceTokenizer {
  const reservedCount = settings.reservedCount ?? 6;
  const unknownId = settings.unknownId ?? 0;
  const pieces = vocabulary.map(([piece]) => piece);
  const scores = new Float64Array(vocabulary.length);
  // Trie edges keyed by parentNode * codePointRange + codePoint, so one Map lookup per character.
  const edges = new Map<number, number>();
  const nodePieceIds: number[] = [-1];
  let longestPiece = 1;
  let lowestScore = 0;

  vocabulary.forEach(([piece, score], id) => {
    if (!Number.isFinite(score)) {
      throw new RangeError(`Vocabulary entry ${id} (${JSON.stringify(piece)}) has no finite score.`);
    }
    scores[id] = score;
    if (id < reservedCount || piece.length === 0) return;
    lowestScore = Math.min(lowestScore, score);
    let node = 0;
    let length = 0;
    for (const character of piece) {
      const key = node * codePointRange + character.codePointAt(0)!;
      let child = edges.get(key);
      if (child === undefined) {
        child = nodePieceIds.length;
        nodePieceIds.push(-1);
        edges.set(key, child);
      }
      node = child;
      length += 1;
    }
    // A repeated piece keeps its first, most likely id.
    if (nodePieceIds[node] === -1) nodePieceIds[node] = id;
    longestPiece = Math.max(longestPiece, length);
  });

  const pieceIdOfNode = Int32Array.from(nodePieceIds);
  const wordsAreIndependent = pieces.every((piece, id) => id < reservedCount || !piece.includes('\u2581', 1));
  const unknownScore = lowestScore - unknownPenalty;
  let bestScores = new Float64Array(64);
  let startOfBest = new Int32Array(64);
  let idOfBest = new Int32Array(64);
  let pathIds = new Int32Array(64);

  function ensureCapacity(length: number): void {
    if (bestScores.length >= length) return;
    const capacity = Math.max(length, bestScores.length * 2);
    bestScores = new Float64Array(capacity);
    startOfBest = new Int32Array(capacity);
    idOfBest = new Int32Array(capacity);
    pathIds = new Int32Array(capacity);
  }

  // Segments codePoints[start, end) and appends its ids to `output`.
  function segmentSpan(codePoints: readonly number[], start: number, end: number, output: number[]): void {
    const length = end - start;
    ensureCapacity(length + 1);
    bestScores[0] = 0;
    for (let position = 1; position <= length; position += 1) bestScores[position] = -Infinity;

    for (let position = 0; position < length; position += 1) {
      const scoreSoFar = bestScores[position]!;
      let node = 0;
      let singleCharacterKnown = false;
      const limit = Math.min(length, position + longestPiece);
      for (let next = position; next < limit; next += 1) {
        const child = edges.get(node * codePointRange + codePoints[start + next]!);
        if (child === undefined) break;
        node = child;
        const id = pieceIdOfNode[node]!;
        if (id < 0) continue;
        if (next === position) singleCharacterKnown = true;
        const score = scoreSoFar + scores[id]!;
        if (score > bestScores[next + 1]!) {
          bestScores[next + 1] = score;
          startOfBest[next + 1] = position;
          idOfBest[next + 1] = id;
        }
      }
      if (!singleCharacterKnown) {
        const score = scoreSoFar + unknownScore;
        if (score > bestScores[position + 1]!) {
          bestScores[position + 1] = score;
          startOfBest[position + 1] = position;
          idOfBest[position + 1] = unknownId;
        }
      }
    }

    let pathLength = 0;
    for (let position = length; position > 0; position = startOfBest[position]!) {
      pathIds[pathLength] = idOfBest[position]!;
      pathLength += 1;
    }
    for (let index = pathLength - 1; index >= 0; index -= 1) {
      const id = pathIds[index]!;
      if (id === unknownId && output.length > 0 && output[output.length - 1] === unknownId) continue;
      output.push(id);
    }
  }

  function tokenize(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
    const output: number[] = [];
    if (maxTokens <= 0) return output;
    // A token spans at most `longestPiece` code points: a generous prefix gives the same first tokens.
    const characterBudget = (maxTokens + 1) * longestPiece * 8;
    const source = text.length > characterBudget ? text.slice(0, characterBudget) : text;
    const codePoints: number[] = [];
    for (const character of normalizeForSentencepiece(source)) codePoints.push(character.codePointAt(0)!);
    if (!wordsAreIndependent) {
      segmentSpan(codePoints, 0, codePoints.length, output);
    }
    // When no piece spans a word start, words segment independently and a long text stops early.
    let wordStart = wordsAreIndependent ? 0 : codePoints.length;
    while (wordStart < codePoints.length && output.length < maxTokens) {
      let wordEnd = wordStart + 1;
      while (wordEnd < codePoints.length && codePoints[wordEnd] !== wordBoundary) wordEnd += 1;
      segmentSpan(codePoints, wordStart, wordEnd, output);
      wordStart = wordEnd;
    }
    if (output.length > maxTokens) output.length = maxTokens;
    return output;
  }

  return {
    tokenize,
    countTokens: (text) => tokenize(text).length,
    pieceOf: (id) => pieces[id],
    idOf(piece) {
      let node = 0;
      for (const character of piece) {
        const child = edges.get(node * codePointRange + character.codePointAt(0)!);
        if (child === undefined) return undefined;
        node = child;
      }
      const id = pieceIdOfNode[node]!;
      return id < 0 || piece.length === 0 ? undefined : id;
    },
    vocabularySize: vocabulary.length,
  };
}
