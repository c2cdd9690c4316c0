import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { downloadLamp, lampOfficialBaseUrl } from './download-lamp.js';
import type { ModelPricing } from './generate.js';
import { isLampBaseline, lampBaselines } from './lamp-baselines.js';
import { isLampMethod, lampMethods } from './lamp-methods.js';
import { type LampTaskNumber, lampTasks, parseLampTask } from './lamp-tasks.js';
import { loadEvalEncoder } from './load-eval-encoder.js';
import { generationHelp, loadGenerator } from './load-generator.js';
import { type LampSplit, loadLamp } from './load-lamp.js';
import { defaultResultsDirectory, resultFileName, writeResult } from './results-store.js';
import { type LampModel, type LampRunResult, lampLeaderboardFile, runLamp } from './run-lamp.js';

export const lampUsage = `Usage: userplug-eval lamp --data DIR --task N --split dev --method NAME [--model SPEC] [--json]
       userplug-eval lamp download --task N [--split dev,train,test] [--time-based] [--out DIR] [--base-url URL]

Runs a LaMP task split: builds every question's prompt with LaMP's templates over the profile entries a method
selects (or userplug's persona), asks the model, and scores with the official metrics (accuracy and macro-F1
over the full label list; MAE and RMSE with the official fallback; ROUGE-1 and ROUGE-L as rouge_score).
Without --model the prompts are built and counted, and nothing is scored.

Options:
  --data DIR            Folder with the task's files (as \`lamp download\` writes them).
                        Default: USERPLUG_LAMP_DIR or evals/.cache/lamp.
  --task N              1-7 (LaMP-6 data is not public).
  --split NAME          train, dev or test. Default: dev.
  --time-based          The time-based split (default: user-based).
  --method NAME         ${Object.keys(lampMethods).join(', ')}. Default: none.
  --k K                 Profile entries in the prompt (the -k methods; the top attributions for userplug). Default: 4.
  --model SPEC          provider:model (openai:gpt-4o-mini), or a deterministic baseline that is not an LLM:
                        ${Object.keys(lampBaselines).join(', ')}.
  --encoder NAME        use or hashing, for dense-k and userplug. Default: use.
  --budget N            Persona tokens for userplug. Default: 300.
  --max-length N        LaMP's prompt max_length in tokens. Default: 512.
  --limit N             Only the first N questions.
  --concurrency N       Questions in flight. Default: 4.
  --checkpoint FILE     JSONL checkpoint (a rerun resumes). Default: <results>/tmp/<run>.jsonl.
  --predictions FILE    Leaderboard-format predictions. Default: <results>/tmp/<run>.predictions.json.
  --seed N              Seed of random-k. Default: 0.
  --price-input USD     Dollars per million input tokens, for cost accounting when the adapter reports no cost.
  --price-output USD    Dollars per million output tokens.
  --results DIR         Where result JSON goes. Default: USERPLUG_EVAL_RESULTS or evals/results.
  --no-save             Write no result file.
  --json                Print the result JSON (predictions left out) instead of a summary.

Download options:
  --out DIR             Target folder. Default: USERPLUG_LAMP_DIR or evals/.cache/lamp.
  --base-url URL        Default: USERPLUG_LAMP_BASE_URL or ${lampOfficialBaseUrl}
  --sha256 NAME=HEX     Expected SHA-256 of a file (dev_questions.json=…); repeatable.
  --checksums FILE      JSON object of expected SHA-256 by file name.
  --force               Download again even when verified files are present.
`;

function defaultLampDirectory(): string {
  return resolve(process.env.USERPLUG_LAMP_DIR ?? join('evals', '.cache', 'lamp'));
}

function parseTask(value: string | undefined): LampTaskNumber {
  if (value === undefined) throw new UsageError('--task is required: 1-7.');
  const task = parseLampTask(value);
  if (task === undefined) throw new UsageError(`--task must be 1-7, got "${value}".`);
  return task;
}

function parseSplit(value: string): LampSplit {
  if (value !== 'train' && value !== 'dev' && value !== 'test') {
    throw new UsageError(`--split must be train, dev or test, got "${value}".`);
  }
  return value;
}

function wholeNumber(name: string, value: string | undefined, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) {
    throw new UsageError(`${name} must be a whole number ≥ ${minimum}, got "${value}".`);
  }
  return number;
}

function dollars(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0)
    throw new UsageError(`${name} must be dollars ≥ 0, got "${value}".`);
  return number;
}

async function downloadCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      task: { type: 'string' },
      split: { type: 'string', default: 'dev' },
      'time-based': { type: 'boolean', default: false },
      out: { type: 'string' },
      'base-url': { type: 'string' },
      sha256: { type: 'string', multiple: true },
      checksums: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const task = parseTask(values.task);
  const splits = values.split.split(',').map((split) => parseSplit(split.trim()));
  const sha256: Record<string, string> = {};
  if (values.checksums !== undefined) {
    Object.assign(sha256, JSON.parse(readFileSync(values.checksums, 'utf8')) as Record<string, string>);
  }
  for (const entry of values.sha256 ?? []) {
    const separator = entry.indexOf('=');
    if (separator <= 0) throw new UsageError(`--sha256 takes NAME=HEX, got "${entry}".`);
    sha256[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  const directory = values.out ?? defaultLampDirectory();
  const files = await downloadLamp({
    task,
    splits,
    timeBased: values['time-based'],
    directory,
    ...(values['base-url'] === undefined ? {} : { baseUrl: values['base-url'] }),
    ...(Object.keys(sha256).length > 0 ? { sha256 } : {}),
    force: values.force,
    progress: io.stderr,
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ directory: resolve(directory), files })}\n`);
    return;
  }
  for (const file of files) {
    io.stdout.write(
      `${file.status.padEnd(10)} ${relative(process.cwd(), file.path) || file.path}  ${file.bytes} bytes  sha256 ${file.sha256}\n`,
    );
  }
  io.stdout.write(
    `${lampTasks[task].name} is in ${resolve(directory)}. Run: userplug-eval lamp --data ${directory} --task ${task} --split ${splits[0]}${values['time-based'] ? ' --time-based' : ''} --method bm25-k\n`,
  );
}

function formatMetrics(result: LampRunResult): string {
  const metrics = result.metrics;
  if (!metrics) return 'no metrics';
  const parts = Object.entries(metrics)
    .filter(([key]) => key !== 'n' && key !== 'invalid')
    .map(([key, value]) => `${key} ${(value as number).toFixed(4)}`);
  return `${parts.join(', ')} (n ${metrics.n}, invalid ${metrics.invalid})`;
}

/** `userplug-eval lamp` and `userplug-eval lamp download`. */
export async function lampCommand(args: string[], io: CliIo): Promise<void> {
  if (args[0] === 'download') return downloadCommand(args.slice(1), io);
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      task: { type: 'string' },
      split: { type: 'string', default: 'dev' },
      'time-based': { type: 'boolean', default: false },
      method: { type: 'string', default: 'none' },
      k: { type: 'string', default: '4' },
      model: { type: 'string' },
      encoder: { type: 'string', default: 'use' },
      budget: { type: 'string', default: '300' },
      'max-length': { type: 'string', default: '512' },
      limit: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      checkpoint: { type: 'string' },
      predictions: { type: 'string' },
      seed: { type: 'string', default: '0' },
      'price-input': { type: 'string' },
      'price-output': { type: 'string' },
      results: { type: 'string' },
      'no-save': { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const task = parseTask(values.task);
  const split = parseSplit(values.split);
  const method = values.method;
  if (!isLampMethod(method)) {
    throw new UsageError(`Unknown --method "${method}". Use one of ${Object.keys(lampMethods).join(', ')}.`);
  }
  const encoderName = values.encoder;
  if (encoderName !== 'use' && encoderName !== 'hashing') {
    throw new UsageError(`--encoder must be "use" or "hashing", got "${encoderName}".`);
  }
  const k = wholeNumber('--k', values.k, 1)!;
  const limit = wholeNumber('--limit', values.limit, 1);
  const dataset = await loadLamp({
    data: values.data ?? defaultLampDirectory(),
    task,
    split,
    timeBased: values['time-based'],
  });
  if (limit !== undefined) dataset.questions = dataset.questions.slice(0, limit);

  let model: LampModel | undefined;
  let disposeModel: (() => Promise<void>) | undefined;
  if (values.model !== undefined) {
    if (isLampBaseline(values.model)) {
      if (values.model === 'majority' && lampTasks[task].kind === 'generation') {
        throw new UsageError(
          `--model majority needs a labelled task (1-3); use --model echo for ${lampTasks[task].name}.`,
        );
      }
      model = { kind: 'baseline', name: values.model };
    } else {
      const loaded = await loadGenerator(values.model);
      const inputPrice = dollars('--price-input', values['price-input']);
      const outputPrice = dollars('--price-output', values['price-output']);
      const pricing: ModelPricing | undefined =
        inputPrice !== undefined || outputPrice !== undefined
          ? { inputPerMillion: inputPrice ?? 0, outputPerMillion: outputPrice ?? 0 }
          : undefined;
      model = { kind: 'llm', name: loaded.name, generate: loaded.generate, ...(pricing ? { pricing } : {}) };
      disposeModel = loaded.dispose;
    }
  }
  const resultsDirectory = values.results ?? defaultResultsDirectory();
  const naming = {
    benchmark: 'lamp',
    task: lampTasks[task].name,
    split,
    timeBased: values['time-based'],
    method,
    k,
    model: model?.name ?? null,
    createdAt: '',
  };
  const runName = resultFileName(naming).replace(/\.json$/, '');
  const checkpointPath = values.checkpoint ?? join(resultsDirectory, 'tmp', `${runName}.jsonl`);
  const encoder =
    method === 'dense-k' || method === 'userplug'
      ? await loadEvalEncoder({
          encoder: encoderName,
          ...(values['no-cache'] ? { cacheDirectory: false } : {}),
        })
      : undefined;
  let result: LampRunResult;
  try {
    result = await runLamp({
      dataset,
      method,
      k,
      ...(model ? { model } : {}),
      ...(encoder ? { encoder } : {}),
      budget: wholeNumber('--budget', values.budget, 0)!,
      maxLength: wholeNumber('--max-length', values['max-length'], 16)!,
      concurrency: wholeNumber('--concurrency', values.concurrency, 1)!,
      seed: wholeNumber('--seed', values.seed, 0)!,
      checkpointPath,
      onProgress: (event) => {
        if (io.stderr.isTTY)
          io.stderr.write(`\r${lampTasks[task].name} ${method}: ${event.done}/${event.total}\u001b[K`);
      },
    });
  } finally {
    await encoder?.dispose();
    await disposeModel?.();
  }
  if (io.stderr.isTTY) io.stderr.write('\n');
  const { predictions, ...summary } = result;
  if (model) {
    const predictionsPath =
      values.predictions ?? join(resultsDirectory, 'tmp', `${runName}.predictions.json`);
    mkdirSync(join(predictionsPath, '..'), { recursive: true });
    writeFileSync(predictionsPath, `${JSON.stringify(lampLeaderboardFile(result), null, 2)}\n`);
    if (!values.json)
      io.stderr.write(`predictions (leaderboard format): ${relative(process.cwd(), predictionsPath)}\n`);
  }
  const savable = model !== undefined && result.metrics !== null;
  if (values.json)
    io.stdout.write(`${JSON.stringify(model ? summary : { ...summary, note: generationHelp })}\n`);
  else {
    const label = `${result.task} ${split}${result.timeBased ? ' (time)' : ''}, ${result.n} questions, method ${method}`;
    const prompts = `prompts: mean ${result.prompts.meanTokens.toFixed(1)} tokens, max ${result.prompts.maxTokens} (${result.prompts.tokenizer})`;
    if (!model) {
      io.stdout.write(`${label}: ${prompts}.\nNothing was scored. ${generationHelp}\n`);
    } else {
      const kind = model.kind === 'baseline' ? ` (${model.name}: baseline, not an LLM)` : ` (${model.name})`;
      const cost = result.usage.costUsd === null ? 'cost unknown' : `$${result.usage.costUsd.toFixed(4)}`;
      io.stdout.write(
        `${label}${kind}: ${formatMetrics(result)}; ${prompts}; ${result.usage.calls} model calls, ` +
          `${result.usage.inputTokens} input + ${result.usage.outputTokens} output tokens, ${cost}` +
          `${result.resumed > 0 ? `; ${result.resumed} resumed from the checkpoint` : ''}.\n`,
      );
      if (!dataset.golds)
        io.stdout.write(`${split} has no outputs file: predictions only (submit them to the leaderboard).\n`);
    }
  }
  if (savable && !values['no-save']) {
    const path = writeResult(summary, resultsDirectory);
    if (!values.json) io.stderr.write(`wrote ${relative(process.cwd(), path)}\n`);
  }
}
