#!/usr/bin/env node
import { runEvalCli } from './run-eval-cli.js';

process.exitCode = await runEvalCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
