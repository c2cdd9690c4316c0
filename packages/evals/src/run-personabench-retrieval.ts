import type { HistoryItemInput } from '@userplug/core';
import { InvalidArgumentError } from '@userplug/core';
import type { PersonaBenchDataset, PersonaBenchSession } from './load-personabench.js';
import { officialChunkText } from './personabench-official-text.js';
import {
  type RetrievalSummary,
  roundOfficial,
  scoreRetrieval,
  summarizeRetrieval,
} from './personabench-retrieval-metrics.js';
import type { Retriever } from './retriever.js';
import { sessionToHistoryItem } from './session-to-history-item.js';

/** How a session is written for the retriever. */
export type SessionTextFormat = 'history-item' | 'official-json';

/** Options of {@link runPersonaBenchRetrieval}. */
export interface PersonaBenchRetrievalOptions {
  dataset: PersonaBenchDataset;
  retriever: Retriever;
  /** Chunks retrieved per question (K of Recall@K and NDCG@K). Default 5, the official setting. */
  k?: number;
  /**
   * `history-item` (default): `sessionToHistoryItem` (who, with whom, when, what). `official-json`: the
   * official script's chunk text (the session's compact JSON).
   */
  sessionText?: SessionTextFormat;
  /** Called after each person. */
  onProgress?: (event: { person: string; people: number; done: number }) => void;
}

/** One question's ranking and scores. Ids only: no question or session text. */
export interface PersonaBenchQuestionResult {
  qId: string;
  person: string;
  type: string;
  difficulty: string;
  /** Retrieved segment ids, best first (K of them). */
  retrieved: string[];
  recall: number;
  ndcg: number;
}

/** One retrieval run: what `userplug-eval personabench --json` prints and writes to evals/results/. */
export interface PersonaBenchRetrievalResult {
  benchmark: 'personabench';
  task: 'retrieval';
  community: string;
  noise: string;
  k: number;
  method: string;
  /** The encoder of embedding methods; null for lexical ones. */
  encoder: string | null;
  sessionText: SessionTextFormat;
  /** Overall Recall@K over the scored (non-Subjective) questions. */
  recall: number;
  /** Overall NDCG@K. */
  ndcg: number;
  /** Scored questions. */
  n: number;
  /** By question type. */
  byType: Record<string, RetrievalSummary>;
  /** By official category (`Preference_easy`, `Preference_hard`, …). */
  byCategory: Record<string, RetrievalSummary>;
  /** The official script's printout: `ave_recall` and `ave_ndcg` rounded to 3 decimals, `Overall` and categories. */
  official: Record<string, { ave_recall: number; ave_ndcg: number }>;
  people: { name: string; sessions: number; questions: number }[];
  questions: PersonaBenchQuestionResult[];
  durationMs: number;
  createdAt: string;
}

/** A session as the retriever's document. */
export function sessionDocument(session: PersonaBenchSession, format: SessionTextFormat): HistoryItemInput {
  const item = sessionToHistoryItem(session);
  return format === 'official-json' ? { ...item, text: officialChunkText(session) } : item;
}

/**
 * Runs the official retrieval protocol: for every person, only their own sessions are indexed; each of their
 * questions (its text only) is searched for the top K segment ids; Recall@K and NDCG@K are scored against the
 * evidence afterwards, the best over evidence combinations, Subjective questions skipped.
 */
export async function runPersonaBenchRetrieval(
  options: PersonaBenchRetrievalOptions,
): Promise<PersonaBenchRetrievalResult> {
  const { dataset, retriever } = options;
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1)
    throw new InvalidArgumentError('k', `k must be a whole number ≥ 1, got ${k}.`);
  const format = options.sessionText ?? 'history-item';
  const started = performance.now();
  const questions: PersonaBenchQuestionResult[] = [];
  for (const [position, person] of dataset.people.entries()) {
    const documents = person.sessions.map((session) => sessionDocument(session, format));
    const index = await retriever.index(documents, {
      userId: `${dataset.community}/noise_${dataset.noise}/${person.name}`,
    });
    try {
      for (const question of person.questions) {
        // The retriever sees the question text and the person's sessions, nothing else.
        const retrieved = await index.search(question.question, k);
        const score = scoreRetrieval(retrieved, question.evidence, k);
        questions.push({
          qId: question.qId,
          person: person.name,
          type: question.type,
          difficulty: question.difficulty,
          retrieved: retrieved.slice(0, k),
          ...score,
        });
      }
    } finally {
      await index.close();
    }
    options.onProgress?.({ person: person.name, people: dataset.people.length, done: position + 1 });
  }
  const summary = summarizeRetrieval(questions);
  const official: Record<string, { ave_recall: number; ave_ndcg: number }> = {
    Overall: { ave_recall: roundOfficial(summary.recall), ave_ndcg: roundOfficial(summary.ndcg) },
  };
  for (const [category, group] of Object.entries(summary.byCategory)) {
    official[category] = { ave_recall: roundOfficial(group.recall), ave_ndcg: roundOfficial(group.ndcg) };
  }
  return {
    benchmark: 'personabench',
    task: 'retrieval',
    community: dataset.community,
    noise: dataset.noise,
    k,
    method: retriever.name,
    encoder: (await retriever.encoderId()) ?? null,
    sessionText: format,
    recall: summary.recall,
    ndcg: summary.ndcg,
    n: summary.n,
    byType: summary.byType,
    byCategory: summary.byCategory,
    official,
    people: dataset.people.map((person) => ({
      name: person.name,
      sessions: person.sessions.length,
      questions: person.questions.length,
    })),
    questions,
    durationMs: Math.round(performance.now() - started),
    createdAt: new Date().toISOString(),
  };
}
