import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  output: string;
}

/** Runs a TypeScript script in a new Node process (workspace sources, through tsx) with a JSON task in argv[2]. */
export function startChild(script: string, task: unknown): { child: ChildProcess; done: Promise<ChildExit> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@userplug/source', '--import', 'tsx', script, JSON.stringify(task)],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const done = new Promise<ChildExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done };
}
