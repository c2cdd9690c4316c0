import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { createMethodRetriever, isRetrievalMethod, retrievalMethods } from './create-method-retriever.js';
import type { ModelPricing } from './generate.js';
import { loadEvalEncoder } from './load-eval-encoder.js';
import { generationHelp, loadGenerator } from './load-generator.js';
import { listPersonaBench, loadPersonaBench } from './load-personabench.js';
import type { RetrievalSummary } from './personabench-retrieval-metrics.js';
import { defaultResultsDirectory, writeResult } from './results-store.js';
import { type PersonaBenchQaResult, runPersonaBenchQa } from './run-personabench-qa.js';
import {
  type PersonaBenchRetrievalResult,
  runPersonaBenchRetrieval,
  type SessionTextFormat,
} from './run-personabench-retrieval.js';

export const personabenchUsage = `Usage: userplug-eval personabench --data DIR --community N --noise X --k K --method NAME [--json]

PersonaBench retrieval with the official scorer: for each person, only their own sessions are searched with
the question text; Recall@K and NDCG@K over evidence segment ids (best over evidence combinations),
Subjective questions skipped, broken down by type and (Preference) difficulty. Each run's JSON is also
written to evals/results/ under a stable name.

Options:
  --data DIR            Release root holding eval_data/eval_data_v1/synthetic_data (for example
                        ../shared/data/personabench). Default: USERPLUG_PERSONABENCH_DIR.
  --community N         Community number or folder name. Default: 0.
  --noise X             Noise level (0.0, 0.3, 0.5, 0.7), or "all". Default: 0.5.
  --k K                 Chunks retrieved per question. Default: 5.
  --method NAME         ${Object.keys(retrievalMethods).join(', ')};
                        several comma-separated. Default: userplug.
  --encoder NAME        use (the embedded default encoder) or hashing (lexical, no model). Default: use.
  --session-text FMT    history-item (who, with whom, when, what) or official-json (the official chunk JSON).
                        Default: history-item.
  --view VIEW           sessions (one document per session, the official chunks) or turns (one per message, with
                        speaker, session id, timestamp and the asking person as self; rankings are read back as
                        sessions, each at its best turn). Default: sessions.
  --persona-budget N    Also render the persona at N tokens (userplug) and report persona evidence recall: the
                        share of gold evidence sessions it quotes, with its mean tokens. Repeatable (150, 300, 600).
  --cache DIR           Embedding cache folder. Default: USERPLUG_EVAL_CACHE or evals/.cache/embeddings.
  --no-cache            Embed everything again; write no cache.
  --results DIR         Where result JSON goes. Default: USERPLUG_EVAL_RESULTS or evals/results.
  --no-save             Write no result file.
  --qa                  End-to-end QA instead of retrieval: needs --model. The context is the method's top K,
                        or the ground truth with --method gold-context (the official upper bound).
  --model SPEC          For --qa: provider:model, such as openai:gpt-4o-mini.
  --concurrency N       For --qa: model calls in flight. Default: 4.
  --price-input USD     For --qa cost accounting when the adapter reports no cost: dollars per million input tokens.
  --price-output USD    Dollars per million output tokens.
  --json                Print the result JSON (one object per run) instead of a table.
  -h, --help            Show this help.
`;

const categoryLabels: Record<string, string> = {
  Basic_information_easy: 'Basic information',
  Preference_easy: 'Preference (easy)',
  Preference_hard: 'Preference (hard)',
  Social_easy: 'Social',
};

function formatRetrieval(result: PersonaBenchRetrievalResult): string {
  const k = result.k;
  const lines = [
    `PersonaBench ${result.community}, noise ${result.noise}, method ${result.method}` +
      `${result.view === 'turns' ? ', turns view' : ''}` +
      `${result.encoder ? ` (encoder ${result.encoder})` : ''}, ${result.n} questions scored`,
    `  ${'category'.padEnd(22)}${`Recall@${k}`.padStart(10)}${`NDCG@${k}`.padStart(10)}${'n'.padStart(6)}`,
  ];
  const row = (label: string, group: RetrievalSummary) =>
    `  ${label.padEnd(22)}${group.recall.toFixed(3).padStart(10)}${group.ndcg.toFixed(3).padStart(10)}${String(group.n).padStart(6)}`;
  lines.push(row('Overall', result));
  for (const [category, group] of Object.entries(result.byCategory)) {
    lines.push(row(categoryLabels[category] ?? category, group));
  }
  if (result.recallAt10 !== undefined)
    lines.push(`  Recall@10 of the ranking: ${result.recallAt10.toFixed(3)}`);
  for (const persona of result.persona ?? []) {
    lines.push(
      `  persona at ${persona.budget} tokens: evidence recall ${persona.recall.toFixed(3)}, ` +
        `${persona.tokens.toFixed(0)} tokens and ${persona.quoted.toFixed(1)} sessions quoted on average`,
    );
  }
  if (result.answerTurns) {
    const turns = result.answerTurns;
    const persona = turns.persona
      .map((entry) => `, persona at ${entry.budget} ${entry.recall.toFixed(3)}`)
      .join('');
    lines.push(
      `  answer-stating turns (${turns.n} questions): Recall@5 ${turns.recallAt5.toFixed(3)}, ` +
        `Recall@10 ${turns.recallAt10.toFixed(3)}${persona}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function formatQa(result: PersonaBenchQaResult): string {
  const cost = result.usage.costUsd === null ? 'cost unknown' : `$${result.usage.costUsd.toFixed(4)}`;
  return (
    `PersonaBench QA ${result.community}, noise ${result.noise}, context ${result.method}, model ${result.model}: ` +
    `precision ${result.precision.toFixed(3)}, recall ${result.recall.toFixed(3)}, F1 ${result.f1.toFixed(3)} ` +
    `(n ${result.n}); outdated-value recall ${result.outdated.recall.toFixed(3)} (n ${result.outdated.n}); ` +
    `${result.usage.inputTokens} input + ${result.usage.outputTokens} output tokens, ${cost}\n`
  );
}

function positiveInteger(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`${name} must be a whole number ≥ 1, got "${value}".`);
  return number;
}

function price(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0)
    throw new UsageError(`${name} must be dollars ≥ 0, got "${value}".`);
  return number;
}

/** `userplug-eval personabench`. */
export async function personabenchCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      community: { type: 'string', default: '0' },
      noise: { type: 'string', default: '0.5' },
      k: { type: 'string', default: '5' },
      method: { type: 'string', default: 'userplug' },
      encoder: { type: 'string', default: 'use' },
      'session-text': { type: 'string', default: 'history-item' },
      view: { type: 'string', default: 'sessions' },
      'persona-budget': { type: 'string', multiple: true, default: [] },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      results: { type: 'string' },
      'no-save': { type: 'boolean', default: false },
      qa: { type: 'boolean', default: false },
      model: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      'price-input': { type: 'string' },
      'price-output': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const data = values.data ?? process.env.USERPLUG_PERSONABENCH_DIR;
  if (!data)
    throw new UsageError(
      '--data is required: the PersonaBench release root, such as ../shared/data/personabench.',
    );
  const k = positiveInteger('--k', values.k);
  const encoderName = values.encoder;
  if (encoderName !== 'use' && encoderName !== 'hashing') {
    throw new UsageError(`--encoder must be "use" or "hashing", got "${encoderName}".`);
  }
  const sessionText = values['session-text'];
  if (sessionText !== 'history-item' && sessionText !== 'official-json') {
    throw new UsageError(`--session-text must be "history-item" or "official-json", got "${sessionText}".`);
  }
  const view = values.view;
  if (view !== 'sessions' && view !== 'turns') {
    throw new UsageError(`--view must be "sessions" or "turns", got "${view}".`);
  }
  const personaBudgets = values['persona-budget'].map((budget) =>
    positiveInteger('--persona-budget', budget),
  );
  const methods = values.method.split(',').map((method) => method.trim());
  for (const method of methods) {
    if (!isRetrievalMethod(method) && !(values.qa && method === 'gold-context')) {
      throw new UsageError(
        `Unknown --method "${method}". Use one of ${Object.keys(retrievalMethods).join(', ')}` +
          `${values.qa ? ', gold-context' : ''}.`,
      );
    }
  }
  if (values.qa && values.model === undefined) {
    throw new UsageError(`--qa answers questions with a model. ${generationHelp}`);
  }
  const listing = listPersonaBench(data);
  const communityName = /^\d+$/.test(values.community) ? `community_${values.community}` : values.community;
  const community = listing.communities.find((entry) => entry.name === communityName);
  if (!community) {
    throw new UsageError(
      `Community "${communityName}" is not in ${listing.directory}. Available: ${listing.communities.map((entry) => entry.name).join(', ')}.`,
    );
  }
  const noises =
    values.noise === 'all' ? community.noiseLevels : values.noise.split(',').map((noise) => noise.trim());
  const resultsDirectory = values.results ?? defaultResultsDirectory();

  const generator = values.qa ? await loadGenerator(values.model!) : undefined;
  const inputPrice = price('--price-input', values['price-input']);
  const outputPrice = price('--price-output', values['price-output']);
  const pricing: ModelPricing | undefined =
    inputPrice !== undefined || outputPrice !== undefined
      ? { inputPerMillion: inputPrice ?? 0, outputPerMillion: outputPrice ?? 0 }
      : undefined;

  const needsEncoder = methods.some((method) => method !== 'bm25' && method !== 'gold-context');
  const encoder = needsEncoder
    ? await loadEvalEncoder({
        encoder: encoderName,
        ...(values['no-cache']
          ? { cacheDirectory: false }
          : values.cache === undefined
            ? {}
            : { cacheDirectory: values.cache }),
      })
    : undefined;
  const progress = (text: string) => {
    if (!values.json || io.stderr.isTTY) io.stderr.write(text);
  };
  try {
    for (const noise of noises) {
      const dataset = await loadPersonaBench({ root: data, community: community.name, noise });
      for (const method of methods) {
        const retriever =
          method === 'gold-context'
            ? undefined
            : createMethodRetriever(method as keyof typeof retrievalMethods, encoder ? { encoder } : {});
        try {
          const started = performance.now();
          progress(`personabench ${dataset.community} noise ${dataset.noise} ${method}: running…\n`);
          const result = generator
            ? await runPersonaBenchQa({
                dataset,
                context: retriever ?? 'gold',
                generate: generator.generate,
                model: generator.name,
                k,
                sessionText: sessionText as SessionTextFormat,
                concurrency: positiveInteger('--concurrency', values.concurrency),
                ...(pricing ? { pricing } : {}),
              })
            : await runPersonaBenchRetrieval({
                dataset,
                retriever: retriever!,
                k,
                sessionText: sessionText as SessionTextFormat,
                view,
                personaBudgets,
                onProgress: (event) => progress(`  ${event.person} done (${event.done}/${event.people})\n`),
              });
          if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
          else io.stdout.write(result.task === 'qa' ? formatQa(result) : formatRetrieval(result));
          if (!values['no-save']) {
            const path = writeResult(result, resultsDirectory);
            progress(
              `  wrote ${relative(process.cwd(), path)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
            );
          }
        } finally {
          await retriever?.dispose();
        }
      }
    }
  } finally {
    await encoder?.dispose();
    await generator?.dispose();
  }
}
