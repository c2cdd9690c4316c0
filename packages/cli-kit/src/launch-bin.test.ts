import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const launcher = new URL('../launch-bin.js', import.meta.url).href;
const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

// A package folder with a bin file that calls the launcher, and the given files.
async function packageWith(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'userplug-launch-'));
  folders.push(root);
  const all = {
    'package.json': '{ "name": "tool", "type": "module" }\n',
    'bin/tool.js': `import { launchBin } from '${launcher}';\nawait launchBin(new URL('..', import.meta.url));\n`,
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return join(root, 'bin', 'tool.js');
}

describe('launchBin', () => {
  it('runs dist/bin.js of an installed package (no src/)', async () => {
    const bin = await packageWith({
      'dist/bin.js': "console.log('dist', process.argv.slice(2).join(' '));\n",
    });
    expect((await run(process.execPath, [bin, 'personalize', '--json'])).stdout).toBe(
      'dist personalize --json\n',
    );
  });

  it('runs src/bin.ts in a checkout, before anything is built, even when a stale dist/ exists', async () => {
    const bin = await packageWith({
      'src/bin.ts': "const where: string = 'source';\nconsole.log(where);\n",
      'dist/bin.js': "console.log('stale dist');\n",
    });
    expect((await run(process.execPath, [bin])).stdout).toBe('source\n');
  });

  it("runs this repository's CLI from its TypeScript sources", async () => {
    const bin = fileURLToPath(new URL('../../cli/bin/userplug.js', import.meta.url));
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: tmpdir() });
    expect(stdout).toMatch(/^userplug: plug a user into any LLM\./);
    expect(stdout).toContain('personalize');
  });
});
