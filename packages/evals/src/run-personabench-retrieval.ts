import type { HistoryItemInput } from '@userplug/core';
import { InvalidArgumentError } from '@userplug/core';
import type { PersonaBenchDataset, PersonaBenchSession } from './load-personabench.js';
import { answerTurnRecall, answerTurns } from './personabench-answer-turns.js';
import { officialChunkText } from './personabench-official-text.js';
import {
  isSkippedType,
  type RetrievalSummary,
  roundOfficial,
  scoreRetrieval,
  summarizeRetrieval,
} from './personabench-retrieval-metrics.js';
import type { Retriever } from './retriever.js';
import { segmentOfTurn, sessionToHistoryItem, sessionToTurnItems } from './session-to-history-item.js';

/** How a session is written for the retriever. */
export type SessionTextFormat = 'history-item' | 'official-json';

/**
 * What a retriever's documents are: `sessions` (one per session, the official chunks) or `turns` (one per message,
 * with speaker, session id, timestamp and `self`, as a chatbot stores chats; rankings are read back as sessions).
 */
export type PersonaBenchView = 'sessions' | 'turns';

/** Persona evidence recall at one budget, over the scored questions. */
export interface PersonaRecallSummary {
  /** The persona budget, in tokens. */
  budget: number;
  /** Mean share of the gold evidence sessions the persona quotes (best over evidence combinations). */
  recall: number;
  /** Mean persona tokens. */
  tokens: number;
  /** Mean number of sessions quoted. */
  quoted: number;
}

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
  /** Documents as sessions (default) or as chat turns. */
  view?: PersonaBenchView;
  /**
   * Also render the persona at each of these budgets (methods that render one) and score the share of gold
   * evidence it quotes. Default none.
   */
  personaBudgets?: readonly number[];
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
  /** Recall@10 of the same ranking. */
  recallAt10: number;
  /** Persona evidence recall, tokens and sessions quoted, per budget. */
  persona?: { budget: number; recall: number; tokens: number; quoted: number }[];
  /**
   * Turns view: the share of the answer-stating turns (see `answerTurns`) in the top 5 and top 10 turns and in the
   * persona at each budget; absent when no turn of the evidence states the answer.
   */
  answerTurns?: {
    count: number;
    recallAt5: number;
    recallAt10: number;
    persona: { budget: number; recall: number }[];
  };
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
  /** Sessions or turns as documents (older results: sessions). */
  view?: PersonaBenchView;
  /** Overall Recall@K over the scored (non-Subjective) questions. */
  recall: number;
  /** Overall Recall@10 of the same rankings. */
  recallAt10?: number;
  /** Persona evidence recall by budget (when budgets were asked for). */
  persona?: PersonaRecallSummary[];
  /**
   * Turns view: over the questions whose evidence has turns that state the answer, the mean share of those turns
   * in the top 5 and top 10 turns and in the persona at each budget (a development proxy of turn-level evidence).
   */
  answerTurns?: {
    n: number;
    recallAt5: number;
    recallAt10: number;
    persona: { budget: number; recall: number }[];
  };
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
  const view = options.view ?? 'sessions';
  const budgets = options.personaBudgets ?? [];
  const started = performance.now();
  const questions: PersonaBenchQuestionResult[] = [];
  // Turn ids are read back as the sessions they belong to, each session once, in order of its best turn.
  const asSessions = (ids: readonly string[]) =>
    view === 'turns' ? [...new Set(ids.map(segmentOfTurn))] : [...new Set(ids)];
  for (const [position, person] of dataset.people.entries()) {
    const documents =
      view === 'turns'
        ? person.sessions.flatMap(sessionToTurnItems)
        : person.sessions.map((session) => sessionDocument(session, format));
    const index = await retriever.index(documents, {
      userId: `${dataset.community}/noise_${dataset.noise}/${view === 'turns' ? 'turns/' : ''}${person.name}`,
    });
    try {
      for (const question of person.questions) {
        // The retriever sees the question text and the person's documents, nothing else.
        const ranked = await index.search(
          question.question,
          view === 'turns' ? documents.length : Math.max(k, 10),
        );
        const ranking = asSessions(ranked);
        const gold = view === 'turns' ? answerTurns(question, documents) : new Set<string>();
        const turnPersona: { budget: number; recall: number }[] = [];
        const score = scoreRetrieval(ranking, question.evidence, k);
        const persona: NonNullable<PersonaBenchQuestionResult['persona']> = [];
        for (const budget of budgets) {
          if (!index.persona) break;
          const quotes = await index.persona(question.question, budget);
          const quoted = asSessions(quotes.itemIds);
          if (gold.size > 0) turnPersona.push({ budget, recall: answerTurnRecall(quotes.itemIds, gold) });
          persona.push({
            budget,
            recall: quoted.length === 0 ? 0 : scoreRetrieval(quoted, question.evidence, quoted.length).recall,
            tokens: quotes.tokens,
            quoted: quoted.length,
          });
        }
        questions.push({
          qId: question.qId,
          person: person.name,
          type: question.type,
          difficulty: question.difficulty,
          retrieved: ranking.slice(0, k),
          ...score,
          recallAt10: scoreRetrieval(ranking, question.evidence, 10).recall,
          ...(persona.length > 0 ? { persona } : {}),
          ...(gold.size > 0
            ? {
                answerTurns: {
                  count: gold.size,
                  recallAt5: answerTurnRecall(ranked.slice(0, 5), gold),
                  recallAt10: answerTurnRecall(ranked.slice(0, 10), gold),
                  persona: turnPersona,
                },
              }
            : {}),
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
  const scored = questions.filter((question) => !isSkippedType(question.type));
  const meanOf = (values: readonly number[]) =>
    values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
  const personaSummary = budgets.flatMap((budget): PersonaRecallSummary[] => {
    const rows = scored.flatMap(
      (question) => question.persona?.filter((entry) => entry.budget === budget) ?? [],
    );
    if (rows.length === 0) return [];
    return [
      {
        budget,
        recall: meanOf(rows.map((row) => row.recall)),
        tokens: meanOf(rows.map((row) => row.tokens)),
        quoted: meanOf(rows.map((row) => row.quoted)),
      },
    ];
  });
  const withTurns = scored.flatMap((question) => (question.answerTurns ? [question.answerTurns] : []));
  const answerTurnSummary =
    withTurns.length === 0
      ? undefined
      : {
          n: withTurns.length,
          recallAt5: meanOf(withTurns.map((entry) => entry.recallAt5)),
          recallAt10: meanOf(withTurns.map((entry) => entry.recallAt10)),
          persona: budgets.map((budget) => ({
            budget,
            recall: meanOf(
              withTurns.map((entry) => entry.persona.find((row) => row.budget === budget)?.recall ?? 0),
            ),
          })),
        };
  return {
    benchmark: 'personabench',
    task: 'retrieval',
    community: dataset.community,
    noise: dataset.noise,
    k,
    method: retriever.name,
    encoder: (await retriever.encoderId()) ?? null,
    sessionText: format,
    view,
    recall: summary.recall,
    recallAt10: meanOf(scored.map((question) => question.recallAt10)),
    ...(personaSummary.length > 0 ? { persona: personaSummary } : {}),
    ...(answerTurnSummary ? { answerTurns: answerTurnSummary } : {}),
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
