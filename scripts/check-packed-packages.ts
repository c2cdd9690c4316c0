// Packs every published package (`npm pack`), checks what each tarball holds, installs all the tarballs
// into an empty project outside the workspace, and runs `userplug personalize` and an ESM import of
// @userplug/core there, with the network refused. Run: npm run pack-check (CI runs it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type PackageManifest,
  type PublicPackage,
  publicPackages,
  repositoryRoot,
} from './public-packages.js';

interface PackResult {
  name: string;
  filename: string;
  files: { path: string }[];
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const keep = process.argv.includes('--keep');
const problems: string[] = [];

/** Runs a command and returns its stdout; `allowFailure` returns it even when the exit code is not 0. */
function run(command: string, args: string[], cwd: string, env = process.env, allowFailure = false): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout;
    if (allowFailure && stdout !== undefined) return stdout;
    throw error;
  }
}

// Only what the package needs at run time: never build info, tests, fixtures or test-only helpers.
const forbidden = [/\.tsbuildinfo$/, /\.test\.[cm]?[jt]s$/, /\.fixture\.[cm]?[jt]s$/, /(^|\/)test-support\//];

/** Checks one tarball's file list against its manifest: nothing forbidden, every entry point and bin present. */
function checkContents(pkg: PublicPackage, files: Set<string>): void {
  const name = pkg.manifest.name;
  for (const file of files) {
    if (forbidden.some((pattern) => pattern.test(file))) {
      problems.push(
        `${name}: the tarball holds ${file}. Exclude it in "files" of packages/${pkg.folder}/package.json (as "!dist/.tsbuildinfo").`,
      );
    }
  }
  const targets = Object.entries(pkg.manifest.exports ?? {}).flatMap(([subpath, target]) =>
    typeof target === 'string'
      ? [[subpath, target] as const]
      : Object.entries(target)
          // The source condition serves the workspace only; sources are not published.
          .filter(([condition]) => condition !== '@userplug/source')
          .map(([, path]) => [subpath, path] as const),
  );
  const bins =
    typeof pkg.manifest.bin === 'string' ? [pkg.manifest.bin] : Object.values(pkg.manifest.bin ?? {});
  for (const [subpath, target] of [...targets, ...bins.map((bin) => ['bin', bin] as const)]) {
    const path = target.replace(/^\.\//, '');
    if (path !== 'package.json' && !files.has(path)) {
      problems.push(`${name}: "${subpath}" names ${target}, which the tarball does not hold.`);
    }
  }
}

/** The workspace packages (`userplug`, `@userplug/*`) that installing `name` brings in, `name` included. */
function workspaceClosure(project: string, name: string): string[] {
  const seen = new Set<string>();
  const visit = (current: string): void => {
    if (seen.has(current)) return;
    seen.add(current);
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules', current, 'package.json'), 'utf8'),
    ) as PackageManifest;
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (dependency === 'userplug' || dependency.startsWith('@userplug/')) visit(dependency);
    }
  };
  visit(name);
  return [...seen];
}

const packages = publicPackages();
const work = mkdtempSync(join(tmpdir(), 'userplug-pack-'));
try {
  // A fresh build, so no output of a deleted source file ends up in a tarball.
  for (const pkg of packages) rmSync(join(pkg.directory, 'dist'), { recursive: true, force: true });
  run(
    npm,
    ['exec', '--', 'tsc', '-b', ...packages.map((pkg) => join(pkg.directory, 'tsconfig.json'))],
    repositoryRoot,
  );

  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    run(
      npm,
      [
        'pack',
        '--json',
        '--pack-destination',
        tarballs,
        ...packages.flatMap((pkg) => ['-w', pkg.manifest.name]),
      ],
      repositoryRoot,
    ),
  ) as PackResult[];
  for (const pkg of packages) {
    const result = packed.find((entry) => entry.name === pkg.manifest.name);
    if (!result) problems.push(`${pkg.manifest.name}: npm pack wrote no tarball.`);
    else checkContents(pkg, new Set(result.files.map((file) => file.path)));
  }

  // An empty project with no workspace around it. Third-party dependencies come from the registry (the npm
  // cache first); install scripts are not run: nothing exercised here needs a native build or a download.
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'userplug-pack-check', private: true, type: 'module' }, null, 2)}\n`,
  );
  run(
    npm,
    [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--workspaces=false',
      ...packed.map((entry) => join(tarballs, entry.filename)),
    ],
    project,
  );

  // Installing the CLI must not install the benchmark package: walk the installed manifests from `userplug`.
  const needed = workspaceClosure(project, 'userplug');
  if (needed.includes('@userplug/evals')) {
    problems.push(`userplug: installing the CLI installs @userplug/evals (through ${needed.join(', ')}).`);
  }

  // Any network access in the runs below fails them.
  writeFileSync(
    join(project, 'refuse-network.mjs'),
    `import net from 'node:net';
const refuse = (what) => { throw new Error('Network access attempted in an offline run: ' + what); };
globalThis.fetch = async (input) => refuse(String(input));
net.Socket.prototype.connect = function () { refuse('socket connect'); };
`,
  );
  const offline = { ...process.env, NODE_OPTIONS: '--import ./refuse-network.mjs' };
  const history = join(repositoryRoot, 'examples', 'sample-history.jsonl');
  const output = run(
    join(project, 'node_modules', '.bin', 'userplug'),
    ['personalize', '--history', history, '--prompt', 'Suggest a weekend plan for me', '--json'],
    project,
    offline,
  );
  const personalized = JSON.parse(output) as { prompt?: string; usage?: { personaTokens?: number } };
  if (!personalized.prompt?.includes('<user_persona>') || !(personalized.usage?.personaTokens ?? 0)) {
    problems.push(`userplug personalize printed no persona:\n${output.slice(0, 500)}`);
  }

  writeFileSync(
    join(project, 'smoke.mjs'),
    `import { createHashingEncoder, createPersonalizer, InvalidHistoryError } from '@userplug/core';
const personalizer = createPersonalizer({ encoder: createHashingEncoder() });
const history = [
  { id: 'a', kind: 'post', text: 'Repotted the fig tree and started tomato seedlings on the balcony' },
  { id: 'b', kind: 'review', text: 'The new ceramic planters drain well; five stars', rating: 5 },
  { id: 'c', kind: 'message', text: 'Any tips for keeping basil alive indoors over winter?' },
];
const result = await personalizer.personalize({ userId: 'gardener', prompt: 'What should I plant next?', history });
await personalizer.dispose();
if (!result.prompt.includes('<user_persona>') || result.persona.attributions.length !== 3) {
  throw new Error('Unexpected personalization: ' + JSON.stringify(result.usage));
}
if (typeof InvalidHistoryError.isInstance !== 'function') throw new Error('InvalidHistoryError is not exported');
console.log('ok ' + result.usage.personaTokens + ' persona tokens');
`,
  );
  const smoke = run(process.execPath, ['smoke.mjs'], project, offline);
  if (!smoke.startsWith('ok ')) problems.push(`The ESM import of @userplug/core failed: ${smoke}`);

  console.log(
    `Packed ${packed.length} packages (${packed.map((entry) => entry.filename).join(', ')}); ` +
      `installed them outside the workspace; userplug personalize and @userplug/core ran offline (${smoke.trim()}).`,
  );
} finally {
  if (keep) console.log(`Kept ${work}.`);
  else rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s) with the published packages:\n- ${problems.join('\n- ')}`);
  process.exitCode = 1;
}
