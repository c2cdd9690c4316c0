import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  createPersonalizer,
  createTiktokenCounter,
  type Encoder,
  InvalidArgumentError,
  type TokenCounter,
} from '@userplug/core';
import {
  createUsageMeter,
  type Generate,
  type GenerateUsage,
  type ModelPricing,
  outputOf,
  type UsageTotals,
} from './generate.js';
import { baselinePrediction, type LampBaseline } from './lamp-baselines.js';
import {
  bm25Profile,
  denseProfile,
  type LampMethod,
  questionSeed,
  randomProfile,
  recentProfile,
  userplugPrompt,
} from './lamp-methods.js';
import { type LampMetrics, lampMetrics } from './lamp-metrics.js';
import { createLampPrompt } from './lamp-prompts.js';
import { type LampProfileItem, lampTasks } from './lamp-tasks.js';
import type { LampDataset, LampQuestion } from './load-lamp.js';
import { mapWithConcurrency } from './map-with-concurrency.js';

/** What answers the prompts: a hosted LLM, a labelled non-LLM baseline, or nothing (prompts only). */
export type LampModel =
  | { kind: 'llm'; name: string; generate: Generate; pricing?: ModelPricing }
  | { kind: 'baseline'; name: LampBaseline };

/** Options of {@link runLamp}. */
export interface RunLampOptions {
  dataset: LampDataset;
  method: LampMethod;
  /** Profile entries in the prompt for the `-k` methods. Default 4. */
  k?: number;
  /** Without a model, only prompts are built and counted (no metrics). */
  model?: LampModel;
  /** Encoder for `dense-k` and `userplug`. */
  encoder?: Encoder;
  /** Persona token budget for `userplug`. Default 300. */
  budget?: number;
  /** LaMP's prompt `max_length` in tokens. Default 512. */
  maxLength?: number;
  /** Counts prompt and output tokens (and truncates template entries). Default o200k_base. */
  tokenCounter?: TokenCounter;
  /** Most questions in flight. Default 4. */
  concurrency?: number;
  /** JSONL checkpoint: finished questions are appended; a rerun with the same settings skips them. */
  checkpointPath?: string;
  /** Seed of random-k. Default 0. */
  seed?: number;
  /** Called after each question. */
  onProgress?: (event: { done: number; total: number; resumed: number }) => void;
}

/** One finished question, as stored in the checkpoint. */
export interface LampPrediction {
  id: string;
  output: string;
  promptTokens: number;
  usage?: GenerateUsage;
}

/** One LaMP run: written to evals/results/ when it has metrics. */
export interface LampRunResult {
  benchmark: 'lamp';
  /** `LaMP_1` … `LaMP_7`. */
  task: string;
  split: string;
  timeBased: boolean;
  method: LampMethod;
  k: number;
  /** The model or baseline name; null when no model ran. */
  model: string | null;
  /** `llm`, `baseline` (deterministic, not an LLM), or null. */
  modelKind: 'llm' | 'baseline' | null;
  /** Present when a model ran and golds exist. */
  metrics: LampMetrics | null;
  n: number;
  /** Prompt sizes (the token counter's tokens). */
  prompts: { totalTokens: number; meanTokens: number; maxTokens: number; tokenizer: string };
  /** Generation tokens and cost (zero calls without an LLM). */
  usage: UsageTotals;
  /** Questions taken from the checkpoint instead of being run again. */
  resumed: number;
  predictions: LampPrediction[];
  durationMs: number;
  createdAt: string;
}

interface CheckpointHeader {
  checkpoint: 'userplug-lamp';
  task: string;
  split: string;
  timeBased: boolean;
  method: string;
  k: number;
  model: string | null;
  maxLength: number;
  budget: number;
  seed: number;
}

function readCheckpoint(path: string, header: CheckpointHeader): Map<string, LampPrediction> {
  const done = new Map<string, LampPrediction>();
  if (!existsSync(path)) return done;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0);
  if (lines.length === 0) return done;
  let stored: unknown;
  try {
    stored = JSON.parse(lines[0]!);
  } catch {
    stored = undefined;
  }
  if (JSON.stringify(stored) !== JSON.stringify(header)) {
    throw new InvalidArgumentError(
      'checkpoint',
      `Checkpoint ${path} was written by a run with other settings (${lines[0]!.slice(0, 200)}). ` +
        'Delete it, or pass another checkpoint path, to start this run.',
    );
  }
  for (const line of lines.slice(1)) {
    try {
      const entry = JSON.parse(line) as LampPrediction;
      if (typeof entry.id === 'string' && typeof entry.output === 'string') done.set(entry.id, entry);
    } catch {
      // A line cut by a killed run: that question runs again.
    }
  }
  return done;
}

async function selectProfile(
  options: RunLampOptions,
  question: LampQuestion,
  k: number,
): Promise<LampProfileItem[]> {
  const { task } = options.dataset;
  switch (options.method) {
    case 'none':
    case 'userplug':
      return [];
    case 'random-k':
      return randomProfile(question.profile, k, questionSeed(question, options.seed ?? 0));
    case 'recency-k':
      return recentProfile(question.profile, k);
    case 'bm25-k':
      return bm25Profile(task, question, k);
    case 'dense-k':
      if (!options.encoder) throw new InvalidArgumentError('encoder', 'dense-k needs an encoder.');
      return denseProfile(task, question, k, options.encoder);
  }
}

/**
 * Runs a LaMP task split with a method: builds each question's prompt (LaMP's templates over the selected
 * profile entries, or userplug's persona), asks the model with a concurrency limit, appends every answer to a
 * JSONL checkpoint (a rerun resumes), counts tokens and cost, and scores with the official metrics.
 */
export async function runLamp(options: RunLampOptions): Promise<LampRunResult> {
  const { dataset, method } = options;
  const task = dataset.task;
  const info = lampTasks[task];
  const k = options.k ?? 4;
  const budget = options.budget ?? 300;
  const maxLength = options.maxLength ?? 512;
  const started = performance.now();
  const tokenCounter = options.tokenCounter ?? (await createTiktokenCounter());
  const model = options.model;
  const meter = createUsageMeter({
    tokenCounter,
    pricing: model?.kind === 'llm' ? model.pricing : undefined,
  });
  const header: CheckpointHeader = {
    checkpoint: 'userplug-lamp',
    task: info.name,
    split: dataset.split,
    timeBased: dataset.timeBased,
    method,
    k,
    model: model?.name ?? null,
    maxLength,
    budget,
    seed: options.seed ?? 0,
  };
  const checkpointPath = model ? options.checkpointPath : undefined;
  const done = checkpointPath ? readCheckpoint(checkpointPath, header) : new Map<string, LampPrediction>();
  if (checkpointPath && !existsSync(checkpointPath)) {
    mkdirSync(dirname(checkpointPath), { recursive: true });
    writeFileSync(checkpointPath, `${JSON.stringify(header)}\n`);
  } else if (checkpointPath && readFileSync(checkpointPath, 'utf8').trim().length === 0) {
    writeFileSync(checkpointPath, `${JSON.stringify(header)}\n`);
  }
  if (method === 'userplug' && !options.encoder) {
    throw new InvalidArgumentError('encoder', 'The userplug method needs an encoder.');
  }
  const personalizer =
    method === 'userplug' && options.encoder
      ? createPersonalizer({ encoder: options.encoder, tokenCounter, budget })
      : undefined;

  let finished = 0;
  let resumed = 0;
  const promptTokens: number[] = [];
  try {
    const predictions = await mapWithConcurrency(
      dataset.questions,
      options.concurrency ?? 4,
      async (question) => {
        const previous = done.get(question.id);
        if (previous) {
          resumed++;
          finished++;
          promptTokens.push(previous.promptTokens);
          if (previous.usage) meter.add('', { text: previous.output, usage: previous.usage });
          options.onProgress?.({ done: finished, total: dataset.questions.length, resumed });
          return previous;
        }
        let prompt: string;
        let selected: LampProfileItem[];
        if (method === 'userplug') {
          ({ prompt, selected } = await userplugPrompt(personalizer!, task, question, { budget, k }));
        } else {
          selected = await selectProfile(options, question, k);
          prompt =
            method === 'none'
              ? question.input
              : createLampPrompt(task, question.input, selected, { maxLength, tokenCounter });
        }
        const tokens = tokenCounter.count(prompt);
        promptTokens.push(tokens);
        let prediction: LampPrediction;
        if (model?.kind === 'llm') {
          const output = outputOf(await model.generate(prompt));
          const usage = meter.add(prompt, output);
          prediction = { id: question.id, output: output.text, promptTokens: tokens, usage };
        } else if (model?.kind === 'baseline') {
          prediction = {
            id: question.id,
            output: baselinePrediction(model.name, task, question.input, selected),
            promptTokens: tokens,
          };
        } else {
          prediction = { id: question.id, output: '', promptTokens: tokens };
        }
        if (checkpointPath) appendFileSync(checkpointPath, `${JSON.stringify(prediction)}\n`);
        finished++;
        options.onProgress?.({ done: finished, total: dataset.questions.length, resumed });
        return prediction;
      },
    );

    let metrics: LampMetrics | null = null;
    if (model && dataset.golds) {
      const golds = predictions.map((prediction) => {
        const gold = dataset.golds!.get(prediction.id);
        if (gold === undefined) {
          throw new InvalidArgumentError(
            'golds',
            `Question ${prediction.id} has no gold output in the outputs file of ${info.name} ${dataset.split}.`,
          );
        }
        return gold;
      });
      metrics = lampMetrics(
        task,
        predictions.map((prediction) => prediction.output),
        golds,
      );
    }
    const totalTokens = promptTokens.reduce((sum, value) => sum + value, 0);
    return {
      benchmark: 'lamp',
      task: info.name,
      split: dataset.split,
      timeBased: dataset.timeBased,
      method,
      k,
      model: model?.name ?? null,
      modelKind: model?.kind ?? null,
      metrics,
      n: predictions.length,
      prompts: {
        totalTokens,
        meanTokens: predictions.length === 0 ? 0 : totalTokens / predictions.length,
        maxTokens: promptTokens.reduce((max, value) => Math.max(max, value), 0),
        tokenizer: tokenCounter.id,
      },
      usage: meter.totals(),
      resumed,
      predictions,
      durationMs: Math.round(performance.now() - started),
      createdAt: new Date().toISOString(),
    };
  } finally {
    await personalizer?.dispose();
  }
}

/** Predictions in the LaMP leaderboard format: `{ task: "LaMP_2", golds: [{ id, output }] }`. */
export function lampLeaderboardFile(result: Pick<LampRunResult, 'task' | 'predictions'>): {
  task: string;
  golds: { id: string; output: string }[];
} {
  return { task: result.task, golds: result.predictions.map(({ id, output }) => ({ id, output })) };
}
