import { type CliCommand, type CliIo, runCommandLine } from '@userplug/cli-kit';
import { lampCommand, lampUsage } from './lamp-command.js';
import { personabenchCommand, personabenchUsage } from './personabench-command.js';
import { reportCommand, reportUsage } from './report-command.js';

const commands: Record<string, CliCommand> = {
  personabench: {
    summary: 'PersonaBench retrieval (Recall@K, NDCG@K) or end-to-end QA with the official scorer.',
    usage: personabenchUsage,
    run: personabenchCommand,
  },
  lamp: {
    summary: 'LaMP tasks 1-7: prompts, baselines, metrics; `lamp download` fetches the data.',
    usage: lampUsage,
    run: lampCommand,
  },
  report: {
    summary: 'Markdown table and self-contained HTML page (charts) from evals/results/*.json.',
    usage: reportUsage,
    run: reportCommand,
  },
};

/** Runs the eval CLI with arguments (without `node` and the script); returns the exit code. */
export function runEvalCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommandLine(
    { name: 'userplug-eval', description: 'benchmarks for userplug (PersonaBench, LaMP).', commands },
    argv,
    io,
  );
}
