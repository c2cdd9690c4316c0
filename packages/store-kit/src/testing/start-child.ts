import { type ChildProcess, spawn } from 'node:child_process';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  /** What it wrote to stdout. */
  stdout: string;
  /** stdout and stderr, interleaved, for failure messages. */
  output: string;
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Node arguments before the script. Default `['--import', 'tsx']` (TypeScript through tsx). */
  nodeArguments?: readonly string[];
  /** Working directory. Default: this process's. */
  cwd?: string;
  /** Called with each line the child writes to stdout, as it comes. */
  onLine?(line: string): void;
}

/** Runs a script in a new Node process with a JSON task in `process.argv[2]`. */
export function startChild(
  script: string,
  task: unknown,
  options: StartChildOptions = {},
): { child: ChildProcess; done: Promise<ChildExit> } {
  const child = spawn(
    process.execPath,
    [...(options.nodeArguments ?? ['--import', 'tsx']), script, JSON.stringify(task)],
    { cwd: options.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let output = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) options.onLine?.(line);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const done = new Promise<ChildExit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, output })),
  );
  return { child, done };
}
