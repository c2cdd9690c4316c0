/** Precision, recall and F-measure of one ROUGE type. */
export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/**
 * Tokenizes as Google's `rouge_score` (no stemmer, as HF `evaluate` calls it): lower-case, every run of
 * characters other than a–z and 0–9 becomes a space, split on whitespace, keep `^[a-z0-9]+$` tokens.
 */
export function tokenizeForRouge(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((token) => /^[a-z0-9]+$/.test(token));
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let index = 0; index + n <= tokens.length; index++) {
    const key = tokens.slice(index, index + n).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N of tokenized texts, as `rouge_scorer._score_ngrams`. */
export function rougeN(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const targetNgrams = ngrams(target, n);
  const predictionNgrams = ngrams(prediction, n);
  let overlap = 0;
  for (const [ngram, count] of targetNgrams) overlap += Math.min(count, predictionNgrams.get(ngram) ?? 0);
  let targetCount = 0;
  for (const count of targetNgrams.values()) targetCount += count;
  let predictionCount = 0;
  for (const count of predictionNgrams.values()) predictionCount += count;
  const precision = overlap / Math.max(predictionCount, 1);
  const recall = overlap / Math.max(targetCount, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Length of the longest common subsequence of two token lists. */
export function lcsLength(left: readonly string[], right: readonly string[]): number {
  let previous = new Uint32Array(right.length + 1);
  let current = new Uint32Array(right.length + 1);
  for (let row = 1; row <= left.length; row++) {
    for (let column = 1; column <= right.length; column++) {
      current[column] =
        left[row - 1] === right[column - 1]
          ? previous[column - 1]! + 1
          : Math.max(previous[column]!, current[column - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[right.length]!;
}

/** ROUGE-L of tokenized texts, as `rouge_scorer._score_lcs`. */
export function rougeL(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-1, ROUGE-2 and ROUGE-L of a prediction against a target, as `RougeScorer.score(target, prediction)`. */
export function rougeScore(
  target: string,
  prediction: string,
): { rouge1: RougeScore; rouge2: RougeScore; rougeL: RougeScore } {
  const targetTokens = tokenizeForRouge(target);
  const predictionTokens = tokenizeForRouge(prediction);
  return {
    rouge1: rougeN(targetTokens, predictionTokens, 1),
    rouge2: rougeN(targetTokens, predictionTokens, 2),
    rougeL: rougeL(targetTokens, predictionTokens),
  };
}
