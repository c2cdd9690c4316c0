// Runs `userplug serve` in a child process (workspace sources through tsx): for fault tests and the load bench.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliBin = fileURLToPath(new URL('../../cli/src/bin.ts', import.meta.url));

/** A running `userplug serve` process. */
export interface ServeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Everything it wrote to standard error so far (its messages; standard output holds the request log). */
  messages(): string;
  /** Request log lines so far. */
  logLines(): string[];
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `userplug serve --port 0 ARGS` and resolves once it listens and its encoder is loaded. */
export async function startServeProcess(args: readonly string[], timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@userplug/source', '--import', 'tsx', cliBin, 'serve', '--port', '0', ...args],
    { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`userplug serve did not get ready in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const listening = /listening on (http:\/\/\S+) \(/.exec(stderr);
      if (listening && stderr.includes('ready (encoder loaded)')) {
        clearTimeout(timer);
        resolve(listening[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`userplug serve exited (${code ?? signal}) before it was ready:\n${stderr}`));
    });
  });
  return {
    child,
    url,
    messages: () => stderr,
    logLines: () => stdout.split('\n').filter((line) => line.length > 0),
    exited,
  };
}
