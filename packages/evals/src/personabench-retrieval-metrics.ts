/** Recall@K and NDCG@K of one ranking for one question. */
export interface RetrievalScore {
  recall: number;
  ndcg: number;
}

/** Mean scores over a group of questions. */
export interface RetrievalSummary extends RetrievalScore {
  /** Questions in the group. */
  n: number;
}

/** One scored question, as the summary needs it. */
export interface ScoredQuestion extends RetrievalScore {
  type: string;
  difficulty: string;
}

/**
 * Every evidence combination: one segment id per answer part (the official `itertools.product` over the
 * parts). An answer part without ids yields no combination at all, as in the official script.
 */
export function expandEvidenceCombinations(
  evidence: Readonly<Record<string, readonly string[]>>,
): string[][] {
  let combinations: string[][] = [[]];
  for (const ids of Object.values(evidence)) {
    const next: string[][] = [];
    for (const combination of combinations) for (const id of ids) next.push([...combination, id]);
    combinations = next;
  }
  return combinations;
}

/**
 * Recall@K and NDCG@K of a ranking against one evidence combination, as the official
 * `compute_recall_and_ndcg_for_single_combination`: the ranking is cut at K, duplicate evidence ids count
 * once, every retrieved occurrence of an evidence id earns gain `1/log2(rank+1)`, and the ideal DCG has
 * `min(|evidence|, K)` hits.
 */
export function scoreCombination(
  retrieved: readonly string[],
  combination: readonly string[],
  k: number,
): RetrievalScore {
  const top = retrieved.slice(0, k);
  const relevant = new Set(combination);
  if (relevant.size === 0) return { recall: 0, ndcg: 0 };
  const found = new Set(top.filter((id) => relevant.has(id)));
  const recall = found.size / relevant.size;
  let dcg = 0;
  top.forEach((id, index) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(index + 2);
  });
  let idcg = 0;
  for (let index = 0; index < Math.min(relevant.size, k); index++) idcg += 1 / Math.log2(index + 2);
  return { recall, ndcg: idcg > 0 ? dcg / idcg : 0 };
}

/**
 * A question's Recall@K and NDCG@K: the best of each over all evidence combinations (each maximised on its
 * own, as the official scorer does).
 */
export function scoreRetrieval(
  retrieved: readonly string[],
  evidence: Readonly<Record<string, readonly string[]>>,
  k: number,
): RetrievalScore {
  let recall = 0;
  let ndcg = 0;
  for (const combination of expandEvidenceCombinations(evidence)) {
    const score = scoreCombination(retrieved, combination, k);
    if (score.recall > recall) recall = score.recall;
    if (score.ndcg > ndcg) ndcg = score.ndcg;
  }
  return { recall, ndcg };
}

/** The official category of a question: `Preference_hard`, `Basic_information_easy`, `Social_easy`, … */
export function officialCategory(type: string, difficulty: string): string {
  const level = type === 'Preference' ? difficulty : 'easy';
  return [...type.split(' '), ...level.split(' ')].join('_');
}

/** Whether the official scorers skip a question type (`Subjective`). */
export function isSkippedType(type: string): boolean {
  return type === 'Subjective';
}

/** What {@link summarizeRetrieval} returns. */
export interface RetrievalBreakdown extends RetrievalSummary {
  /** By question type (`Basic information`, `Preference`, `Social`). */
  byType: Record<string, RetrievalSummary>;
  /** By the official category names (`Preference_easy`, `Preference_hard`, …). */
  byCategory: Record<string, RetrievalSummary>;
}

function mean(group: { recall: number; ndcg: number; n: number }): RetrievalSummary {
  return group.n === 0
    ? { recall: 0, ndcg: 0, n: 0 }
    : { recall: group.recall / group.n, ndcg: group.ndcg / group.n, n: group.n };
}

/** Means overall, by type and by official category; Subjective questions are skipped. */
export function summarizeRetrieval(questions: readonly ScoredQuestion[]): RetrievalBreakdown {
  const overall = { recall: 0, ndcg: 0, n: 0 };
  const byType = new Map<string, { recall: number; ndcg: number; n: number }>();
  const byCategory = new Map<string, { recall: number; ndcg: number; n: number }>();
  const accumulate = (map: typeof byType, key: string, question: ScoredQuestion) => {
    let group = map.get(key);
    if (!group) {
      group = { recall: 0, ndcg: 0, n: 0 };
      map.set(key, group);
    }
    group.recall += question.recall;
    group.ndcg += question.ndcg;
    group.n++;
  };
  for (const question of questions) {
    if (isSkippedType(question.type)) continue;
    overall.recall += question.recall;
    overall.ndcg += question.ndcg;
    overall.n++;
    accumulate(byType, question.type, question);
    accumulate(byCategory, officialCategory(question.type, question.difficulty), question);
  }
  const toRecord = (map: typeof byType) =>
    Object.fromEntries(
      [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, group]) => [key, mean(group)]),
    );
  return { ...mean(overall), byType: toRecord(byType), byCategory: toRecord(byCategory) };
}

/**
 * Python's `round(value, 3)`, as the official script prints its means: half to even, but only on exact ties
 * of the binary value (a tie k + 0.5 thousandths is exact only when (2k + 1) is a multiple of 125).
 */
export function roundOfficial(value: number): number {
  if (!Number.isFinite(value)) return value;
  const scaled = value * 1000;
  const floor = Math.floor(scaled);
  const odd = 2 * floor + 1;
  if (odd % 125 === 0 && odd / 125 / 16 === value) return (floor % 2 === 0 ? floor : floor + 1) / 1000;
  return Math.round(scaled) / 1000;
}
