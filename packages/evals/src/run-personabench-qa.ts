import { createTiktokenCounter, InvalidArgumentError, type TokenCounter } from '@userplug/core';
import {
  createUsageMeter,
  type Generate,
  type ModelPricing,
  outputOf,
  type UsageTotals,
} from './generate.js';
import type { PersonaBenchDataset, PersonaBenchQuestion } from './load-personabench.js';
import { mapWithConcurrency } from './map-with-concurrency.js';
import { officialChunkText, officialQaPrompt } from './personabench-official-text.js';
import { type QaSummary, type SummarizeQaOptions, summarizeQa } from './personabench-qa-metrics.js';
import { roundOfficial } from './personabench-retrieval-metrics.js';
import type { Retriever } from './retriever.js';
import { type SessionTextFormat, sessionDocument } from './run-personabench-retrieval.js';

/** Options of {@link runPersonaBenchQa}. */
export interface PersonaBenchQaOptions extends SummarizeQaOptions {
  dataset: PersonaBenchDataset;
  /**
   * Where the context comes from: a retriever (top K of the person's sessions for the question text), or
   * `gold` for the official ground-truth-context upper bound (the first evidence id of each answer part).
   */
  context: Retriever | 'gold';
  /** The model. */
  generate: Generate;
  /** Name of the model in the result, such as `openai:gpt-4o-mini`. */
  model: string;
  /** Chunks in the context. Default 5, the official setting. */
  k?: number;
  /** How sessions are written for the retriever (the prompt always quotes the official JSON chunks). */
  sessionText?: SessionTextFormat;
  /** Most model calls in flight. Default 4. */
  concurrency?: number;
  /** Counts tokens when the model reports none. Default o200k_base. */
  tokenCounter?: TokenCounter;
  /** Prices for cost accounting when the model reports no cost. */
  pricing?: ModelPricing;
  /** Called after each answer. */
  onProgress?: (event: { done: number; total: number }) => void;
}

/** One answered question. */
export interface PersonaBenchAnswer {
  qId: string;
  type: string;
  difficulty: string;
  /** Segment ids given as context, in prompt order. */
  context: string[];
  prediction: string;
  precision: number;
  recall: number;
  f1: number;
}

/** One end-to-end QA run. */
export interface PersonaBenchQaResult {
  benchmark: 'personabench';
  task: 'qa';
  community: string;
  noise: string;
  k: number;
  /** The retriever's name, or `gold-context`. */
  method: string;
  model: string;
  precision: number;
  recall: number;
  f1: number;
  n: number;
  byType: Record<string, QaSummary>;
  byCategory: Record<string, QaSummary>;
  /** Recall of outdated values in the answers (lower is better). */
  outdated: { recall: number; n: number };
  /** The official script's printout, rounded to 3 decimals. */
  official: Record<string, Record<string, number>>;
  usage: UsageTotals;
  answers: PersonaBenchAnswer[];
  durationMs: number;
  createdAt: string;
}

/** The official ground-truth context: the first id of each answer part, repeated in turn to fill K. */
export function goldContextIds(
  question: Pick<PersonaBenchQuestion, 'qId' | 'evidence'>,
  k: number,
): string[] {
  const ids = Object.values(question.evidence)
    .map((part) => part[0])
    .filter((id): id is string => id !== undefined);
  if (ids.length > k) {
    throw new InvalidArgumentError(
      'k',
      `Question ${question.qId} has ${ids.length} answer parts, more than K = ${k} chunks.`,
    );
  }
  if (ids.length === 0) return [];
  const filled = [...ids];
  for (let index = 0; filled.length < k; index++) filled.push(ids[index % ids.length]!);
  return filled;
}

function wordScores(question: PersonaBenchQuestion, prediction: string) {
  const summary = summarizeQa([{ ...question, prediction }]);
  return { precision: summary.precision, recall: summary.recall, f1: summary.f1 };
}

/**
 * End-to-end QA as the official script: retrieve K chunks for the question (or take the gold ones), prompt
 * the model with the official template, score the answer's word set against the gold answer's.
 */
export async function runPersonaBenchQa(options: PersonaBenchQaOptions): Promise<PersonaBenchQaResult> {
  const { dataset, context } = options;
  const k = options.k ?? 5;
  const started = performance.now();
  const tokenCounter = options.tokenCounter ?? (await createTiktokenCounter());
  const meter = createUsageMeter({ tokenCounter, pricing: options.pricing });
  const jobs: { question: PersonaBenchQuestion; context: string[]; chunks: string[] }[] = [];
  for (const person of dataset.people) {
    const chunkOf = new Map(
      person.sessions.map((session) => [session.segmentId, officialChunkText(session)]),
    );
    const index =
      context === 'gold'
        ? undefined
        : await context.index(
            person.sessions.map((session) => sessionDocument(session, options.sessionText ?? 'history-item')),
            { userId: `${dataset.community}/noise_${dataset.noise}/${person.name}` },
          );
    try {
      for (const question of person.questions) {
        const ids = index ? await index.search(question.question, k) : goldContextIds(question, k);
        jobs.push({ question, context: ids, chunks: ids.map((id) => chunkOf.get(id) ?? '') });
      }
    } finally {
      await index?.close();
    }
  }
  let done = 0;
  const answers = await mapWithConcurrency(jobs, options.concurrency ?? 4, async (job) => {
    const prompt = officialQaPrompt(job.question.question, job.chunks);
    const output = outputOf(await options.generate(prompt));
    meter.add(prompt, output);
    done++;
    options.onProgress?.({ done, total: jobs.length });
    return {
      qId: job.question.qId,
      type: job.question.type,
      difficulty: job.question.difficulty,
      context: job.context,
      prediction: output.text,
      ...wordScores(job.question, output.text),
    };
  });
  const summary = summarizeQa(
    jobs.map((job, index) => ({ ...job.question, prediction: answers[index]!.prediction })),
    options.numberAnswers === undefined ? {} : { numberAnswers: options.numberAnswers },
  );
  const official: Record<string, Record<string, number>> = {
    Overall: {
      ave_precision: roundOfficial(summary.precision),
      ave_recall: roundOfficial(summary.recall),
      ave_f1: roundOfficial(summary.f1),
    },
    outdated_information: { ave_recall: roundOfficial(summary.outdated.recall) },
  };
  for (const [category, group] of Object.entries(summary.byCategory)) {
    official[category] = {
      ave_precision: roundOfficial(group.precision),
      ave_recall: roundOfficial(group.recall),
      ave_f1: roundOfficial(group.f1),
    };
  }
  return {
    benchmark: 'personabench',
    task: 'qa',
    community: dataset.community,
    noise: dataset.noise,
    k,
    method: context === 'gold' ? 'gold-context' : context.name,
    model: options.model,
    precision: summary.precision,
    recall: summary.recall,
    f1: summary.f1,
    n: summary.n,
    byType: summary.byType,
    byCategory: summary.byCategory,
    outdated: summary.outdated,
    official,
    usage: meter.totals(),
    answers,
    durationMs: Math.round(performance.now() - started),
    createdAt: new Date().toISOString(),
  };
}
