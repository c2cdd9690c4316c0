/**
 * What the `userplug` and `userplug-eval` command lines share. Not a public API: it may change in any
 * release. The bin launcher is the plain-JavaScript `@userplug/cli-kit/launch-bin`.
 */
export {
  type CliCommand,
  type CliIo,
  type CliProgram,
  runCommandLine,
  UsageError,
} from './run-command-line.js';
