import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { type CliProgram, runCommandLine, UsageError } from './run-command-line.js';

const calls: string[][] = [];
const program: CliProgram = {
  name: 'tool',
  description: 'does things.',
  commands: {
    greet: {
      summary: 'Says hello.',
      usage: 'Usage: tool greet --name NAME\n',
      async run(args, io) {
        calls.push(args);
        const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
        if (values.name === undefined) throw new UsageError('--name NAME is required.');
        if (values.name === 'nobody') throw new InvalidArgumentError('name', 'Nobody cannot be greeted.');
        if (values.name === 'bug') throw new TypeError('a bug');
        io.stdout.write(`hello ${values.name}\n`);
      },
    },
    count: { summary: 'Counts.', usage: 'Usage: tool count\n', run: async () => {} },
  },
};

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCommandLine(program, argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('runCommandLine', () => {
  it('runs the named command with the arguments after its name', async () => {
    calls.length = 0;
    expect(await run(['greet', '--name', 'Ada'])).toEqual({ code: 0, stdout: 'hello Ada\n', stderr: '' });
    expect(calls).toEqual([['--name', 'Ada']]);
  });

  it('lists every command with its summary; exit 0 when asked, 2 when no command is named', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tool: does things.');
    expect(help.stdout).toMatch(/^ {2}greet {9}Says hello\.$/m);
    expect(help.stdout).toMatch(/^ {2}count {9}Counts\.$/m);
    expect((await run(['help'])).code).toBe(0);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe(help.stdout);
  });

  it('refuses an unknown command, including names every object inherits', async () => {
    for (const name of ['greett', 'toString', 'constructor']) {
      const result = await run([name]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`tool: unknown command "${name}".`);
      expect(result.stderr).toContain('Commands:');
    }
  });

  it("prints a command's usage for --help without running it", async () => {
    calls.length = 0;
    expect(await run(['greet', '-h'])).toEqual({
      code: 0,
      stdout: 'Usage: tool greet --name NAME\n',
      stderr: '',
    });
    expect(calls).toEqual([]);
  });

  it('turns a UsageError and a parseArgs error into exit 2 with the usage', async () => {
    const missing = await run(['greet']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('tool greet: --name NAME is required.\n\nUsage: tool greet --name NAME\n');
    const unknown = await run(['greet', '--nmae', 'Ada']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tool greet: Unknown option '--nmae'/);
    expect(unknown.stderr).toContain('Usage: tool greet');
  });

  it('turns a UserplugError into exit 1 with its message alone', async () => {
    expect(await run(['greet', '--name', 'nobody'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tool greet: Nobody cannot be greeted.\n',
    });
  });

  it('rethrows any other error: it is a bug, not a usage mistake', async () => {
    await expect(run(['greet', '--name', 'bug'])).rejects.toThrow(TypeError);
  });
});
